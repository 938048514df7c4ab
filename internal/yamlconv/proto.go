package yamlconv

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"gopkg.in/yaml.v3"
)

// DecodeProto fills msg from a YAML mapping with protobuf's JSON mapping
// (lowerCamelCase or original field names, enums by name, Duration as a Go
// duration string, wrappers as bare values, Struct as any value). It goes on
// past every problem, skipping the offending field, and returns them all.
func DecodeProto(n *yaml.Node, msg protoreflect.Message, base string, b *Budget) []*Error {
	d := &protoDecoder{b: b, path: b.newPath(base)}
	d.message(n, msg, 0)
	b.release(d.path)
	return d.errs
}

type protoDecoder struct {
	b    *Budget
	path path
	errs []*Error
}

func (d *protoDecoder) fail(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{Line: n.Line, Path: d.path.String(), Msg: fmt.Sprintf(format, args...)})
}

func (d *protoDecoder) enter(n *yaml.Node, depth int) bool {
	if e := d.b.spend(n, &d.path, depth); e != nil {
		d.errs = append(d.errs, e)
		return false
	}
	return true
}

func (d *protoDecoder) message(n *yaml.Node, m protoreflect.Message, depth int) {
	n = Resolve(n)
	if n == nil || isNull(n) {
		return
	}
	if !d.enter(n, depth) {
		return
	}
	if wkt(d, n, m, depth) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, "expected an object, got %s", describe(n))
		return
	}
	fields := m.Descriptor().Fields()
	errs := eachPair(n, &d.path, func(key string, kn, vn *yaml.Node) {
		d.path.pushKey(key)
		defer d.path.pop()
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(key))
		}
		if fd == nil {
			d.fail(kn, "unknown field %q", key)
			return
		}
		v := Resolve(vn)
		if v == nil || isNull(v) {
			return
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if set := m.WhichOneof(od); set != nil {
				d.fail(kn, "only one of %s may be set (%s is set too)", oneofNames(od), set.JSONName())
				return
			}
		}
		switch {
		case fd.IsList():
			d.list(v, m, fd, depth+1)
		case fd.IsMap():
			d.mapField(v, m, fd, depth+1)
		case fd.Message() != nil:
			d.message(v, m.Mutable(fd).Message(), depth+1)
		default:
			if val, ok := d.scalar(v, fd); ok {
				m.Set(fd, val)
			}
		}
	})
	d.errs = append(d.errs, errs...)
}

func (d *protoDecoder) list(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "expected a list, got %s", describe(n))
		return
	}
	l := m.Mutable(fd).List()
	for i, c := range n.Content {
		c = Resolve(c)
		if c == nil {
			continue
		}
		d.path.pushIndex(i)
		if fd.Message() != nil {
			el := l.NewElement()
			d.message(c, el.Message(), depth+1)
			l.Append(el)
		} else if val, ok := d.scalar(c, fd); ok {
			l.Append(val)
		}
		d.path.pop()
	}
}

func (d *protoDecoder) mapField(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, "expected an object, got %s", describe(n))
		return
	}
	mp := m.Mutable(fd).Map()
	kd, vd := fd.MapKey(), fd.MapValue()
	errs := eachPair(n, &d.path, func(key string, kn, vn *yaml.Node) {
		d.path.pushKey(key)
		defer d.path.pop()
		keyNode := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: kn.Line}
		k, ok := d.scalar(&keyNode, kd)
		if !ok {
			return
		}
		v := Resolve(vn)
		if v == nil {
			return
		}
		if vd.Message() != nil {
			val := mp.NewValue()
			d.message(v, val.Message(), depth+1)
			mp.Set(k.MapKey(), val)
			return
		}
		if isNull(v) {
			return
		}
		if val, ok := d.scalar(v, vd); ok {
			mp.Set(k.MapKey(), val)
		}
	})
	d.errs = append(d.errs, errs...)
}

// scalar converts a scalar node for a non-message field.
func (d *protoDecoder) scalar(n *yaml.Node, fd protoreflect.FieldDescriptor) (protoreflect.Value, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, "expected %s, got %s", kindName(fd), describe(n))
		return protoreflect.Value{}, false
	}
	tag := n.ShortTag()
	switch fd.Kind() {
	case protoreflect.StringKind:
		if tag != "!!str" {
			d.fail(n, "expected a string, got %s %s", describe(n), n.Value)
			return protoreflect.Value{}, false
		}
		// A copy: the node's value points into its whole document, which
		// the message would otherwise keep alive.
		return protoreflect.ValueOfString(strings.Clone(n.Value)), true
	case protoreflect.BoolKind:
		if tag == "!!bool" {
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err == nil {
				return protoreflect.ValueOfBool(b), true
			}
		}
		d.fail(n, "expected a boolean, got %s %q", describe(n), n.Value)
	case protoreflect.EnumKind:
		if tag == "!!int" {
			i, err := strconv.ParseInt(n.Value, 10, 32)
			if err == nil && fd.Enum().Values().ByNumber(protoreflect.EnumNumber(i)) != nil {
				return protoreflect.ValueOfEnum(protoreflect.EnumNumber(i)), true
			}
		}
		if ev := fd.Enum().Values().ByName(protoreflect.Name(n.Value)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), true
		}
		d.fail(n, "unknown value %q (want one of %s)", n.Value, enumNames(fd.Enum()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if i, ok := d.integer(n, math.MinInt32, math.MaxInt32); ok {
			return protoreflect.ValueOfInt32(int32(i)), true
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if i, ok := d.integer(n, math.MinInt64, math.MaxInt64); ok {
			return protoreflect.ValueOfInt64(i), true
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if i, ok := d.integer(n, 0, math.MaxUint32); ok {
			return protoreflect.ValueOfUint32(uint32(i)), true
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if i, ok := d.integer(n, 0, math.MaxInt64); ok {
			return protoreflect.ValueOfUint64(uint64(i)), true
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		if f, ok := d.float(n); ok {
			if fd.Kind() == protoreflect.FloatKind {
				return protoreflect.ValueOfFloat32(float32(f)), true
			}
			return protoreflect.ValueOfFloat64(f), true
		}
	case protoreflect.BytesKind:
		b, err := base64.StdEncoding.DecodeString(n.Value)
		if err != nil {
			d.fail(n, "expected base64 bytes: %v", err)
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfBytes(b), true
	default:
		d.fail(n, "unsupported field kind %s", fd.Kind())
	}
	return protoreflect.Value{}, false
}

// integer accepts YAML integers and, as protobuf's JSON mapping does,
// quoted integers and integral floats.
func (d *protoDecoder) integer(n *yaml.Node, lo, hi int64) (int64, bool) {
	s := n.Value
	switch n.ShortTag() {
	case "!!int":
		if norm, err := ParseInt(s); err == nil {
			s = norm
		}
	case "!!str":
	case "!!float":
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f == math.Trunc(f) {
			s = strconv.FormatFloat(f, 'f', 0, 64)
		}
	default:
		d.fail(n, "expected an integer, got %s %q", describe(n), n.Value)
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil || i < lo || i > hi {
		d.fail(n, "expected an integer in [%d, %d], got %q", lo, hi, n.Value)
		return 0, false
	}
	return i, true
}

func (d *protoDecoder) float(n *yaml.Node) (float64, bool) {
	switch n.ShortTag() {
	case "!!int", "!!float", "!!str":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil {
			return f, true
		}
	}
	d.fail(n, "expected a number, got %s %q", describe(n), n.Value)
	return 0, false
}

// wkt decodes well-known types from their JSON forms; false when m is not
// one.
func wkt(d *protoDecoder, n *yaml.Node, m protoreflect.Message, depth int) bool {
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Duration":
		if n.Kind != yaml.ScalarNode {
			d.fail(n, "expected a duration such as \"1.5s\", got %s", describe(n))
			return true
		}
		if n.ShortTag() != "!!str" {
			d.fail(n, "expected a duration string such as \"5s\", got %s %s", describe(n), n.Value)
			return true
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.fail(n, "invalid duration %q", n.Value)
			return true
		}
		m.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(int64(dur/time.Second)))
		m.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(dur%time.Second)))
	case "google.protobuf.Timestamp":
		t, err := time.Parse(time.RFC3339Nano, n.Value)
		if err != nil {
			d.fail(n, "invalid timestamp %q", n.Value)
			return true
		}
		m.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(t.Unix()))
		m.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
	case "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
		"google.protobuf.Int32Value", "google.protobuf.Int64Value", "google.protobuf.UInt32Value",
		"google.protobuf.UInt64Value", "google.protobuf.FloatValue", "google.protobuf.DoubleValue":
		fd := md.Fields().ByName("value")
		if v, ok := d.scalar(n, fd); ok {
			m.Set(fd, v)
		}
	case "google.protobuf.Struct":
		if n.Kind != yaml.MappingNode {
			d.fail(n, "expected an object, got %s", describe(n))
			return true
		}
		d.mapField(n, m, md.Fields().ByName("fields"), depth)
	case "google.protobuf.ListValue":
		if n.Kind != yaml.SequenceNode {
			d.fail(n, "expected a list, got %s", describe(n))
			return true
		}
		d.list(n, m, md.Fields().ByName("values"), depth)
	case "google.protobuf.Value":
		d.value(n, m, depth)
	case "google.protobuf.Empty":
	case "google.protobuf.Any":
		d.fail(n, "google.protobuf.Any is not supported here")
	default:
		return false
	}
	return true
}

func (d *protoDecoder) value(n *yaml.Node, m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	switch n.Kind {
	case yaml.MappingNode:
		d.message(n, m.Mutable(fields.ByName("struct_value")).Message(), depth)
	case yaml.SequenceNode:
		d.message(n, m.Mutable(fields.ByName("list_value")).Message(), depth)
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			m.Set(fields.ByName("null_value"), protoreflect.ValueOfEnum(0))
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			m.Set(fields.ByName("bool_value"), protoreflect.ValueOfBool(b))
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil {
				if norm, e2 := ParseInt(n.Value); e2 == nil {
					f, err = strconv.ParseFloat(norm, 64)
				}
			}
			if err != nil {
				d.fail(n, "invalid number %q", n.Value)
				return
			}
			m.Set(fields.ByName("number_value"), protoreflect.ValueOfFloat64(f))
		default:
			m.Set(fields.ByName("string_value"), protoreflect.ValueOfString(strings.Clone(n.Value)))
		}
	}
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int":
		return "integer"
	case "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "string"
}

func kindName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return "a string"
	case protoreflect.BoolKind:
		return "a boolean"
	case protoreflect.EnumKind:
		return "one of " + enumNames(fd.Enum())
	}
	return "a number"
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	vals := ed.Values()
	names := make([]string, 0, vals.Len())
	for i := 0; i < vals.Len(); i++ {
		names = append(names, string(vals.Get(i).Name()))
	}
	return strings.Join(names, ", ")
}

func oneofNames(od protoreflect.OneofDescriptor) string {
	fs := od.Fields()
	names := make([]string, 0, fs.Len())
	for i := 0; i < fs.Len(); i++ {
		names = append(names, fs.Get(i).JSONName())
	}
	return strings.Join(names, ", ")
}
