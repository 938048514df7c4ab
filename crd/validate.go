package crd

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// celCostBudget is the CEL cost budget for all x-kubernetes-validations rules
// of one object: the apiserver's own per-request budget, roughly a second of
// evaluation, after which the remaining rules are skipped with an error.
const celCostBudget = celconfig.RuntimeCELCostBudget

// kindValidator validates objects of one served version of one CRD. Every
// field is set once by newKindValidator and only read afterwards.
type kindValidator struct {
	apiVersion string
	kind       string
	namespaced bool
	// hasStatus: the version has a status subresource, so create drops status.
	hasStatus bool
	// What the schema uses, to skip the passes that would find nothing.
	features   schemaFeatures
	structural *structuralschema.Structural
	schema     *openapiValidator
	cel        *cel.Validator // nil when the schema has no CEL rules
}

// newKindValidator builds the validators for version of c the way the
// apiextensions-apiserver's CRD handler does.
func newKindValidator(c *apiextensionsv1.CustomResourceDefinition, version string) (*kindValidator, error) {
	val, err := apihelpers.GetSchemaForVersion(c, version)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, errors.New("no openAPIV3Schema")
	}
	if c.Spec.PreserveUnknownFields {
		return nil, errors.New("preserveUnknownFields is not supported")
	}
	sub, err := apihelpers.GetSubresourcesForVersion(c, version)
	if err != nil {
		return nil, fmt.Errorf("subresources: %w", err)
	}
	if sub != nil && sub.Scale != nil {
		return nil, errors.New("scale subresource is not supported")
	}
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, fmt.Errorf("convert schema to internal: %w", err)
	}
	ss, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("structural schema: %w", err)
	}
	// As the apiserver: own a copy, with defaults pruned of unknown fields.
	ss = ss.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(ss); err != nil {
		return nil, fmt.Errorf("prune defaults: %w", err)
	}

	// The OpenAPI schema the apiserver's NewSchemaValidator validates with
	// (formats this Kubernetes version does not know are stripped), driven
	// by openapiValidator rather than rebuilt on every call.
	_, openapi, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("openapi schema validator: %w", err)
	}
	kv := &kindValidator{
		apiVersion: c.Spec.Group + "/" + version,
		kind:       c.Spec.Names.Kind,
		namespaced: c.Spec.Scope == apiextensionsv1.NamespaceScoped,
		hasStatus:  sub != nil && sub.Status != nil,
		features:   featuresOf(ss, 0),
		structural: ss,
		schema:     newOpenAPIValidator(openapi),
		// Compiles every rule once; the result is safe for concurrent use.
		cel: cel.NewValidator(ss, true, celconfig.PerCallLimit),
	}
	return kv, nil
}

// schemaFeatures records which schema extensions occur anywhere in a
// schema. The apiserver's passes for an extension the schema does not use
// are no-ops, which Validate skips.
type schemaFeatures struct {
	defaults        bool // default values: structuraldefaulting.Default
	embedded        bool // x-kubernetes-embedded-resource: objectmeta Coerce and Validate
	listSetsAndMaps bool // x-kubernetes-list-type set or map: listtype validation
}

func featuresOf(s *structuralschema.Structural, depth int) schemaFeatures {
	var f schemaFeatures
	if s == nil {
		return f
	}
	if depth > 256 {
		// Deeper than any CRD allows; assume everything.
		return schemaFeatures{true, true, true}
	}
	f.defaults = s.Default.Object != nil
	f.embedded = s.XEmbeddedResource
	f.listSetsAndMaps = s.XListType != nil && (*s.XListType == "set" || *s.XListType == "map")
	or := func(g schemaFeatures) {
		f.defaults = f.defaults || g.defaults
		f.embedded = f.embedded || g.embedded
		f.listSetsAndMaps = f.listSetsAndMaps || g.listSetsAndMaps
	}
	if s.Items != nil {
		or(featuresOf(s.Items, depth+1))
	}
	if s.AdditionalProperties != nil {
		or(featuresOf(s.AdditionalProperties.Structural, depth+1))
	}
	for k := range s.Properties {
		p := s.Properties[k]
		or(featuresOf(&p, depth+1))
	}
	return f
}

// Validate validates obj, an object of group/version/kind decoded from YAML
// or JSON, as a kube-apiserver with the CRD installed validates a create
// request for it, and returns every error sorted by path. ok is false, with
// no errors, when the Set has no CRD serving group/version/kind.
//
// obj is not modified: validation works on a normalized copy, pruned of
// unknown fields (each reported, as with kubectl's default strict field
// validation) and defaulted from the schema. ctx is passed to CEL evaluation.
func (s *Set) Validate(ctx context.Context, group, version, kind string, obj map[string]any) (errs []FieldError, ok bool) {
	return s.validate(ctx, group, version, kind, obj, false)
}

// ValidateOwned is Validate for an object the caller hands over: it must
// hold only the values the apiserver's JSON decoder produces
// (map[string]any, []any, string, bool, nil, int64 for integers, float64
// for other numbers), and it is pruned and defaulted in place. It skips
// Validate's defensive copy, which is most of what validation allocates
// beyond the libraries' own work.
func (s *Set) ValidateOwned(ctx context.Context, group, version, kind string, obj map[string]any) (errs []FieldError, ok bool) {
	return s.validate(ctx, group, version, kind, obj, true)
}

func (s *Set) validate(ctx context.Context, group, version, kind string, obj map[string]any, owned bool) ([]FieldError, bool) {
	e := s.kinds[gvk{group, version, kind}]
	if e == nil {
		return nil, false
	}
	kv, err := e.get()
	if err != nil {
		return []FieldError{{Message: "Internal error: " + err.Error()}}, true
	}
	if kv == nil {
		return nil, false // listed but not served
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if obj == nil && owned {
		obj = map[string]any{}
	}
	return sortErrors(kv.validate(ctx, obj, owned)), true
}

func (kv *kindValidator) validate(ctx context.Context, in map[string]any, owned bool) []FieldError {
	var errs []FieldError
	n := normalizer{}
	u := in
	if owned {
		n.nulls = hasNull(in)
	} else {
		u = n.object(in)
		errs = append(errs, n.errs...)
	}

	// Type meta. The decoder fills in a missing apiVersion or kind from
	// the request, so only a conflicting one is an error.
	if k, ok := u["kind"]; ok && k != kv.kind {
		errs = append(errs, fromField(field.Invalid(field.NewPath("kind"), k, "must be "+kv.kind)))
	}
	if a, ok := u["apiVersion"]; ok && a != kv.apiVersion {
		errs = append(errs, fromField(field.Invalid(field.NewPath("apiVersion"), a, "must be "+kv.apiVersion)))
	}
	u["kind"], u["apiVersion"] = kv.kind, kv.apiVersion

	// Decoding: object meta, then pruning of unknown fields (reported, as
	// with fieldValidation=Strict), nulls and embedded object meta, then
	// defaulting.
	metaErrs, ferrs, metaNulls := kv.objectMeta(u)
	errs = append(errs, metaErrs...)
	if kv.hasStatus {
		delete(u, "status") // create cannot set status
	}
	for _, p := range structuralpruning.PruneWithOptions(u, kv.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true, ParentPath: make([]string, 0, 32)}) {
		errs = append(errs, FieldError{Path: p, Message: unknownField})
	}
	if n.nulls || metaNulls {
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, kv.structural)
	}
	if kv.features.embedded {
		if ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u, kv.structural, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true}); ferr != nil {
			errs = append(errs, fromField(ferr))
		} else {
			for _, p := range paths {
				errs = append(errs, FieldError{Path: p, Message: unknownField})
			}
		}
	}
	if kv.features.defaults {
		structuraldefaulting.Default(u, kv.structural)
	}

	// The custom resource strategy's Validate, after object meta's.
	if res := kv.schema.validate(u); res != nil {
		ferrs = append(ferrs, apiservervalidation.ValidateCustomResource(nil, u, resultValidator{res})...)
	}
	if kv.features.embedded {
		ferrs = append(ferrs, schemaobjectmeta.Validate(nil, u, kv.structural, false)...)
	}
	if kv.features.listSetsAndMaps {
		ferrs = append(ferrs, structurallisttype.ValidateListSetsAndMaps(nil, kv.structural, u)...)
	}
	if kv.cel != nil {
		if blocked, ferr := hasBlockingErr(ferrs); blocked {
			ferrs = append(ferrs, ferr)
		} else {
			celErrs, _ := kv.cel.Validate(ctx, nil, kv.structural, u, nil, celCostBudget)
			ferrs = append(ferrs, celErrs...)
		}
	}
	for _, e := range ferrs {
		errs = append(errs, fromField(e))
	}
	return errs
}

const unknownField = "Unknown field: field not declared in schema"

// resultValidator hands an already computed kube-openapi result to
// ValidateCustomResource, which turns it into field errors.
type resultValidator struct{ res *validate.Result }

func (r resultValidator) Validate(any, ...apiservervalidation.ValidationOption) *validate.Result {
	return r.res
}

// hasBlockingErr is the apiserver's rule (customresource strategy) for
// skipping CEL rules: they are written assuming the schema holds, so an
// object with type, required, enum or size errors does not reach them.
func hasBlockingErr(errs field.ErrorList) (bool, *field.Error) {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true, field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return false, nil
}

// fromField converts a field.Error.
func fromField(e *field.Error) FieldError {
	p := e.Field
	if p == "<nil>" {
		p = ""
	}
	return FieldError{Path: p, Message: e.ErrorBody()}
}

// hasNull reports whether v holds a null anywhere below it.
func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}
