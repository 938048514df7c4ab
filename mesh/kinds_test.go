package mesh

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestResourceNames(t *testing.T) {
	builtins := []struct {
		gk   GroupKind
		want string
	}{
		{Endpoints, "endpoints"},
		{Service, "services"},
		{Namespace, "namespaces"},
		{Pod, "pods"},
		{EndpointSlice, "endpointslices"},
		{StatefulSet, "statefulsets"},
		{MutatingWebhookConfiguration, "mutatingwebhookconfigurations"},
		{CustomResourceDefinition, "customresourcedefinitions"},
	}
	for _, c := range builtins {
		k, ok := LookupKind(c.gk)
		if !ok || k.Resource != c.want {
			t.Errorf("%s: resource %q, want %q", c.gk, k.Resource, c.want)
		}
	}

	// Every CRD the project embeds names its plural: the table must agree.
	files, err := filepath.Glob(filepath.Join("..", "crd", "data", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRD files under ../crd/data: %v", err)
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var crd struct {
				Kind string
				Spec struct {
					Group string
					Names struct{ Kind, Plural string }
				}
			}
			if err := dec.Decode(&crd); err != nil {
				break
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue
			}
			k, ok := LookupKind(GroupKind{crd.Spec.Group, crd.Spec.Names.Kind})
			if !ok {
				continue
			}
			checked++
			if k.Resource != crd.Spec.Names.Plural {
				t.Errorf("%s: resource %q, the CRD says %q", k.GroupKind, k.Resource, crd.Spec.Names.Plural)
			}
			if want := crd.Spec.Names.Plural + "." + crd.Spec.Group; k.GroupResource() != want {
				t.Errorf("%s: group resource %q, want %q", k.GroupKind, k.GroupResource(), want)
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d modeled kinds against their CRDs", checked)
	}
}
