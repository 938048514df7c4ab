package yamlfast

import (
	"strconv"
	"strings"
	"time"
)

// Tags as yaml.v3 stores them in Node.Tag for untagged nodes.
const (
	tagNull      = "!!null"
	tagBool      = "!!bool"
	tagStr       = "!!str"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagTimestamp = "!!timestamp"
	tagMerge     = "!!merge"
	tagSeq       = "!!seq"
	tagMap       = "!!map"
)

// timestampLayouts are the layouts yaml.v3 tries, in order, for plain
// scalars that start with four digits and a dash.
var timestampLayouts = [...]string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// resolvePlain returns the tag yaml.v3 gives an untagged plain scalar.
// It avoids strconv calls (which allocate on failure) unless the text
// can possibly be a number.
func resolvePlain(s string) string {
	if s == "" {
		return tagNull
	}
	c := s[0]
	switch {
	case c == '<':
		if s == "<<" {
			return tagMerge
		}
		return tagStr
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		switch s {
		case "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
			return tagFloat
		}
		return resolveNumber(s)
	case c == '.':
		switch s {
		case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF":
			return tagFloat
		}
		// strconv.ParseFloat on a string starting with '.' can only
		// succeed on [.0-9eE+-_] text.
		for i := 1; i < len(s); i++ {
			switch b := s[i]; {
			case b >= '0' && b <= '9', b == 'e', b == 'E', b == '+', b == '-', b == '.', b == '_':
			default:
				return tagStr
			}
		}
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return tagFloat
		}
		return tagStr
	case c == '~' || c == 'n' || c == 'N' || c == 't' || c == 'T' || c == 'f' || c == 'F':
		switch s {
		case "~", "null", "Null", "NULL":
			return tagNull
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return tagBool
		}
	}
	return tagStr
}

func resolveNumber(in string) string {
	// Timestamps: four digits then '-'.
	if len(in) > 4 && in[4] == '-' && isDigit(in[0]) && isDigit(in[1]) && isDigit(in[2]) && isDigit(in[3]) {
		for _, layout := range timestampLayouts {
			if _, err := time.Parse(layout, in); err == nil {
				return tagTimestamp
			}
		}
	}
	// Every text any of the numeric parsers below accepts (after '_'
	// removal) uses only these characters.
	for i := 0; i < len(in); i++ {
		switch b := in[i]; {
		case b >= '0' && b <= '9', b >= 'a' && b <= 'f', b >= 'A' && b <= 'F',
			b == 'x', b == 'X', b == 'o', b == 'O', b == '+', b == '-', b == '.', b == '_':
		default:
			return tagStr
		}
	}
	plain := in
	if strings.IndexByte(in, '_') >= 0 {
		plain = strings.ReplaceAll(in, "_", "")
	}
	if intSyntax(plain) {
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return tagInt
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return tagInt
		}
	}
	if yamlStyleFloat(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return tagFloat
		}
	}
	switch {
	case strings.HasPrefix(plain, "0b"):
		if _, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
			return tagInt
		}
		if _, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
			return tagInt
		}
	case strings.HasPrefix(plain, "-0b"):
		if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
			return tagInt
		}
	}
	switch {
	case strings.HasPrefix(plain, "0o"):
		if _, err := strconv.ParseInt(plain[2:], 8, 64); err == nil {
			return tagInt
		}
		if _, err := strconv.ParseUint(plain[2:], 8, 64); err == nil {
			return tagInt
		}
	case strings.HasPrefix(plain, "-0o"):
		if _, err := strconv.ParseInt("-"+plain[3:], 8, 64); err == nil {
			return tagInt
		}
	}
	return tagStr
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// intSyntax is a cheap superset test for strconv.ParseInt/ParseUint with
// base 0: an optional sign followed by hex digits and base letters only.
func intSyntax(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9', b >= 'a' && b <= 'f', b >= 'A' && b <= 'F', b == 'x', b == 'X', b == 'o', b == 'O':
		default:
			return false
		}
	}
	return true
}

// yamlStyleFloat matches ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
func yamlStyleFloat(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	} else {
		if digits() == 0 {
			return false
		}
		if i < len(s) && s[i] == '.' {
			i++
			digits()
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
