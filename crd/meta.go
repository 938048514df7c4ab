package crd

import (
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// placeholderNamespace stands in for the request namespace (kubectl's
// context namespace) when a namespaced object names none.
const placeholderNamespace = "default"

// objectMeta decodes and validates u's metadata as the apiserver does on
// create: a strict decode into ObjectMeta (unknown fields are reported and
// dropped), the request namespace filled in (cleared for cluster-scoped
// kinds), generateName expanded, then ValidateObjectMetaAccessor.
//
// errs are decoding errors (unknown or malformed fields), verrs the
// validation errors; nulls reports whether metadata was rewritten, possibly
// with nulls.
func (kv *kindValidator) objectMeta(u map[string]any) (errs []FieldError, verrs field.ErrorList, nulls bool) {
	om, ok := fastObjectMeta(u["metadata"])
	if !ok {
		m, found, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
		switch {
		case err != nil:
			delete(u, "metadata")
			return []FieldError{{Path: "metadata", Message: "Invalid value: " + err.Error()}}, nil, false
		case !found:
			m = &metav1.ObjectMeta{}
		}
		for _, p := range unknown {
			errs = append(errs, FieldError{Path: p, Message: unknownField})
		}
		if len(unknown) > 0 {
			nulls = true // SetObjectMeta may write nulls
			// The apiserver writes back the decoded ObjectMeta, losing them.
			if err := schemaobjectmeta.SetObjectMeta(u, m); err != nil {
				errs = append(errs, FieldError{Path: "metadata", Message: "Invalid value: " + err.Error()})
			}
		}
		om = m
	}

	// rest.BeforeCreate.
	if kv.namespaced {
		if om.Namespace == "" {
			om.Namespace = placeholderNamespace
		}
	} else {
		om.Namespace = ""
	}
	if om.Name == "" && om.GenerateName != "" {
		om.Name = generateName(om.GenerateName)
	}
	verrs = apivalidation.ValidateObjectMetaAccessor(om, kv.namespaced, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return errs, verrs, nulls
}

// generateName expands generateName as names.SimpleNameGenerator does, with
// a fixed suffix in place of the random one.
func generateName(base string) string {
	const maxGeneratedNameLength = 63 - 5
	if len(base) > maxGeneratedNameLength {
		base = base[:maxGeneratedNameLength]
	}
	return base + "bcdfg"
}

// fastObjectMeta builds the ObjectMeta of the common metadata made only of
// name, namespace, generateName, labels and annotations with string values:
// exactly what the apiserver's strict JSON decode of it would produce, for a
// fraction of the cost. ok is false for anything else.
func fastObjectMeta(v any) (*metav1.ObjectMeta, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	om := &metav1.ObjectMeta{}
	for k, x := range m {
		switch k {
		case "name", "namespace", "generateName":
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			switch k {
			case "name":
				om.Name = s
			case "namespace":
				om.Namespace = s
			default:
				om.GenerateName = s
			}
		case "labels", "annotations":
			sm, ok := stringMap(x)
			if !ok {
				return nil, false
			}
			if k == "labels" {
				om.Labels = sm
			} else {
				om.Annotations = sm
			}
		default:
			return nil, false
		}
	}
	return om, true
}

func stringMap(x any) (map[string]string, bool) {
	if x == nil {
		return nil, true
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[k] = s
	}
	return out, true
}
