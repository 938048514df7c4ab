package yamlfast

import (
	"os"
	"strconv"
)

// YAMLFAST_SEED selects another seed for the random differential tests.
func init() {
	if s := os.Getenv("YAMLFAST_SEED"); s != "" {
		randomSeed, _ = strconv.ParseInt(s, 10, 64)
	}
}
