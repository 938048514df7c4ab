package guardrail

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/meshpilot/meshpilot/mesh"
)

// toMap renders an object as the JSON-shaped map a rule sees as object:
// apiVersion, kind, metadata and, for Istio kinds, spec as protojson would
// print it, except that integers are CEL ints rather than strings.
// Kubernetes objects go through encoding/json.
//
// mk, when not nil, keeps only the fields of an Istio spec that it names:
// limits read a handful of fields, and converting only those keeps a large
// mesh cheap.
func toMap(o *mesh.Object, mk mask) (map[string]any, error) {
	var m map[string]any
	switch v := o.Obj.(type) {
	case proto.Message:
		m = map[string]any{"spec": messageToMap(v.ProtoReflect(), mk)}
	case *mesh.SecretInfo:
		m = map[string]any{"type": string(v.Type)}
	default:
		var err error
		if m, err = jsonToMap(v); err != nil {
			return nil, fmt.Errorf("convert %s to JSON: %w", o.Ref(), err)
		}
	}
	apiVersion := o.Version
	if o.Group != "" {
		apiVersion = o.Group + "/" + o.Version
	}
	m["apiVersion"] = apiVersion
	m["kind"] = o.Kind
	if mk == nil { // limits read the spec only
		m["metadata"] = metaToMap(o)
	}
	return m, nil
}

func metaToMap(o *mesh.Object) map[string]any {
	md := map[string]any{"name": o.Name()}
	if ns := o.Namespace(); ns != "" {
		md["namespace"] = ns
	}
	if len(o.Labels()) > 0 {
		md["labels"] = stringMap(o.Labels())
	}
	if len(o.Annotations()) > 0 {
		md["annotations"] = stringMap(o.Annotations())
	}
	return md
}

func stringMap(in map[string]string) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// jsonToMap round-trips a typed Kubernetes object through encoding/json,
// keeping integers as int64.
func jsonToMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	normalize(m)
	return m, nil
}

// normalize replaces json.Numbers, in place, by int64 or float64.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// mask names the fields to keep, by JSON name, each with the mask of its
// own fields; a nil mask keeps everything.
type mask map[string]mask

// messageToMap walks a message with protoreflect: as protojson with
// default options (JSON names, unset fields left out), without printing
// and parsing text.
func messageToMap(m protoreflect.Message, mk mask) map[string]any {
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := fd.JSONName()
		sub := mask(nil)
		if mk != nil {
			var keep bool
			if sub, keep = mk[name]; !keep {
				return true
			}
		}
		out[name] = fieldToAny(fd, v, sub)
		return true
	})
	return out
}

func fieldToAny(fd protoreflect.FieldDescriptor, v protoreflect.Value, mk mask) any {
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = singularToAny(fd, l.Get(i), mk)
		}
		return out
	case fd.IsMap():
		out := make(map[string]any, v.Map().Len())
		v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
			out[k.String()] = singularToAny(fd.MapValue(), e, mk)
			return true
		})
		return out
	}
	return singularToAny(fd, v, mk)
}

func singularToAny(fd protoreflect.FieldDescriptor, v protoreflect.Value, mk mask) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return nil
		}
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return messageValue(v.Message(), mk)
	}
	return nil
}

// messageValue renders well-known types as protojson does.
func messageValue(m protoreflect.Message, mk mask) any {
	name := m.Descriptor().FullName()
	switch {
	case name == "google.protobuf.Duration":
		fields := m.Descriptor().Fields()
		return formatDuration(m.Get(fields.ByNumber(1)).Int(), m.Get(fields.ByNumber(2)).Int())
	case strings.HasPrefix(string(name), "google.protobuf.") && strings.HasSuffix(string(name), "Value") &&
		name != "google.protobuf.Value" && name != "google.protobuf.ListValue":
		fd := m.Descriptor().Fields().ByNumber(1)
		return singularToAny(fd, m.Get(fd), nil)
	case strings.HasPrefix(string(name), "google.protobuf."):
		data, err := protojson.Marshal(m.Interface())
		if err != nil {
			return nil
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			return nil
		}
		return normalize(v)
	}
	return messageToMap(m, mk)
}

// formatDuration prints seconds and nanos as protojson does: "3s",
// "1.500s", with 0, 3, 6 or 9 fractional digits.
func formatDuration(secs, nanos int64) string {
	sign := ""
	if secs < 0 || nanos < 0 {
		sign, secs, nanos = "-", -secs, -nanos
	}
	s := sign + strconv.FormatInt(secs, 10)
	if nanos != 0 {
		frac := fmt.Sprintf("%09d", nanos)
		for strings.HasSuffix(frac, "000") {
			frac = frac[:len(frac)-3]
		}
		s += "." + frac
	}
	return s + "s"
}
