package crd

import (
	"reflect"

	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// openapiValidator runs kube-openapi's schema validation, the apiserver's
// first validation of a custom resource, without its two largest avoidable
// costs, both per property or list item visited, on every call:
//
//   - kube-openapi builds a fresh SchemaValidator, with eight sub-validators,
//     for every property and item it descends into. Here the tree of
//     SchemaValidators is built once, mirroring the schema, and handed back to
//     kube-openapi through its NewValidatorForField and NewValidatorForIndex
//     hooks (the ones the apiserver's ratcheting validator uses).
//   - its object validator walks every property the schema declares, copying
//     each schema to the heap, to find the few the object has. Here a node's
//     declared properties are presented to kube-openapi as
//     additionalProperties, which it walks by the object's keys, and the
//     hook hands each key the validator of its property. Pruning has already
//     removed every key that is not a property.
//
// The validation logic is all kube-openapi's; a test checks that both
// validators agree on valid and mutated objects of every kind. The prebuilt
// validators carry no field paths, so they only decide validity: an invalid
// object is validated again by a validator built the ordinary way, whose
// errors are reported.
type openapiValidator struct {
	schema *spec.Schema
	root   *openapiNode
}

// openapiNode is the prebuilt validator of one schema node and its
// children's.
type openapiNode struct {
	sv         *validate.SchemaValidator
	props      map[string]*openapiNode
	additional *openapiNode
	items      *openapiNode
	// byKey: the node's properties are presented as additionalProperties;
	// a key that is no property is not validated, as kube-openapi does not
	// validate undeclared keys when additionalProperties is unset.
	byKey bool
}

func newOpenAPIValidator(schema *spec.Schema) *openapiValidator {
	return &openapiValidator{schema: schema, root: newOpenAPINode(schema, schema)}
}

func newOpenAPINode(s, root *spec.Schema) *openapiNode {
	n := &openapiNode{}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*openapiNode, len(s.Properties))
		for name := range s.Properties {
			p := s.Properties[name]
			n.props[name] = newOpenAPINode(&p, root)
		}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		n.additional = newOpenAPINode(s.AdditionalProperties.Schema, root)
	}
	if s.Items != nil && s.Items.Schema != nil {
		n.items = newOpenAPINode(s.Items.Schema, root)
	}
	shown := s
	if len(s.Properties) > 0 && s.AdditionalProperties == nil && len(s.PatternProperties) == 0 {
		c := *s
		c.Properties = nil
		// field never builds a validator from this schema.
		c.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &spec.Schema{}}
		shown, n.byKey = &c, true
	}
	n.sv = validate.NewSchemaValidator(shown, root, "", strfmt.Default, func(o *validate.SchemaValidatorOptions) {
		o.NewValidatorForField = n.field
		o.NewValidatorForIndex = n.index
	})
	return n
}

// field is called by kube-openapi's object validator for a property (with
// the property's schema) or, for a key that is not a property, with the
// additionalProperties schema.
func (n *openapiNode) field(name string, schema *spec.Schema, root any, path string, formats strfmt.Registry, opts ...validate.Option) validate.ValueValidator {
	if c := n.props[name]; c != nil {
		return c.sv
	}
	if n.additional != nil {
		return n.additional.sv
	}
	if n.byKey {
		return noValidation{}
	}
	// patternProperties, which structural schemas do not allow.
	return validate.NewSchemaValidator(schema, root, path, formats, opts...)
}

// index is called by kube-openapi's slice validator for each item.
func (n *openapiNode) index(i int, schema *spec.Schema, root any, path string, formats strfmt.Registry, opts ...validate.Option) validate.ValueValidator {
	if n.items != nil {
		return n.items.sv
	}
	// Tuple items, which structural schemas do not allow.
	return validate.NewSchemaValidator(schema, root, path, formats, opts...)
}

// validate returns nil for a valid object, else kube-openapi's result with
// field paths.
func (v *openapiValidator) validate(obj map[string]any) *validate.Result {
	if v.root.sv.Validate(obj).IsValid() {
		return nil
	}
	return validate.NewSchemaValidator(v.schema, nil, "", strfmt.Default).Validate(obj)
}

// noValidation validates nothing.
type noValidation struct{}

func (noValidation) SetPath(string)                 {}
func (noValidation) Applies(any, reflect.Kind) bool { return true }
func (noValidation) Validate(any) *validate.Result  { return &validate.Result{} }
