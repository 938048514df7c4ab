package crd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

const (
	// maxDepth is encoding/json's nesting limit, which the apiserver's
	// decoder inherits.
	maxDepth = 10000
	// maxNodes bounds the values copied from one object: more than a
	// 3 MiB request body (the apiserver's limit) can hold.
	maxNodes = 4 << 20
)

// normalizer deep-copies a decoded object into the values the apiserver's
// JSON decoder produces, which are the only ones the validation code
// expects: map[string]any, []any, string, bool, nil, int64 for integral
// numbers and float64 for the rest. Values JSON cannot carry are reported
// and dropped.
type normalizer struct {
	nodes   int
	errs    []FieldError
	stopped bool
	nulls   bool // the copy holds a null somewhere
}

func (n *normalizer) object(in map[string]any) map[string]any {
	if in == nil {
		return map[string]any{}
	}
	// One buffer for the path, which each level appends to in place.
	out, _ := n.value(in, make([]pathElem, 0, 24), 0).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// path is built only when an error is reported.
type pathElem struct {
	key   string
	index int
	isKey bool
}

func (n *normalizer) fail(p []pathElem, msg string) {
	var b strings.Builder
	for i, e := range p {
		if e.isKey {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e.key)
		} else {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		}
	}
	n.errs = append(n.errs, FieldError{Path: b.String(), Message: msg})
}

// drop is the sentinel for a value that was reported and must be left out.
type drop struct{}

func dropped(v any) bool {
	_, ok := v.(drop)
	return ok
}

func (n *normalizer) value(v any, p []pathElem, depth int) any {
	if n.stopped {
		return drop{}
	}
	n.nodes++
	if n.nodes > maxNodes {
		n.stopped = true
		n.fail(nil, fmt.Sprintf("Too many: object has more than %d values", maxNodes))
		return drop{}
	}
	if depth > maxDepth {
		n.stopped = true
		n.fail(p, fmt.Sprintf("Invalid value: nested more than %d levels deep", maxDepth))
		return drop{}
	}
	switch x := v.(type) {
	case nil:
		n.nulls = true
		return nil
	case string, bool, int64:
		return x
	case float64:
		return n.float(x, p)
	case int:
		return int64(x)
	case map[string]any:
		if x == nil {
			n.nulls = true
			return nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if c := n.value(e, append(p, pathElem{key: k, isKey: true}), depth+1); !dropped(c) {
				out[k] = c
			}
		}
		return out
	case []any:
		if x == nil {
			n.nulls = true
			return nil
		}
		out := make([]any, 0, len(x))
		for i, e := range x {
			if c := n.value(e, append(p, pathElem{index: i}), depth+1); !dropped(c) {
				out = append(out, c)
			}
		}
		return out
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return n.uint(uint64(x))
	case uint64:
		return n.uint(x)
	case float32:
		return n.float(float64(x), p)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, err := x.Float64()
		if err != nil {
			n.fail(p, fmt.Sprintf("Invalid value: %q: not a number", string(x)))
			return drop{}
		}
		return n.float(f, p)
	case time.Time:
		// A YAML timestamp; JSON carries it as an RFC 3339 string.
		return x.Format(time.RFC3339Nano)
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return n.reflectValue(v, p, depth)
}

// float returns integral values as int64, as the apiserver's JSON decoder
// does for integer literals.
func (n *normalizer) float(f float64, p []pathElem) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		n.fail(p, fmt.Sprintf("Invalid value: %v: must be a finite number", f))
		return drop{}
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return f
}

func (n *normalizer) uint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return float64(u)
}

// reflectValue handles the remaining maps, slices and pointers of other Go
// types; anything else cannot come from JSON and is reported.
func (n *normalizer) reflectValue(v any, p []pathElem, depth int) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			n.nulls = true
			return nil
		}
		return n.value(rv.Elem().Interface(), p, depth+1)
	case reflect.Map:
		if rv.IsNil() {
			n.nulls = true
			return nil
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k, ok := mapKey(it.Key())
			if !ok {
				n.fail(p, fmt.Sprintf("Invalid value: map key of type %s: keys must be strings", it.Key().Type()))
				continue
			}
			if c := n.value(it.Value().Interface(), append(p, pathElem{key: k, isKey: true}), depth+1); !dropped(c) {
				out[k] = c
			}
		}
		return out
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			n.nulls = true
			return nil
		}
		out := make([]any, 0, rv.Len())
		for i := 0; i < rv.Len(); i++ {
			if c := n.value(rv.Index(i).Interface(), append(p, pathElem{index: i}), depth+1); !dropped(c) {
				out = append(out, c)
			}
		}
		return out
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return n.uint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return n.float(rv.Float(), p)
	}
	n.fail(p, fmt.Sprintf("Invalid value: value of type %T cannot be represented in JSON", v))
	return drop{}
}

// mapKey returns a string map key, as a JSON object key.
func mapKey(k reflect.Value) (string, bool) {
	for k.Kind() == reflect.Interface && !k.IsNil() {
		k = k.Elem()
	}
	if k.Kind() == reflect.String {
		return k.String(), true
	}
	return "", false
}
