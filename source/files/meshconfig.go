package files

import (
	"fmt"
	"os"
	"strings"

	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	"github.com/meshpilot/meshpilot/internal/yamlconv"
	"github.com/meshpilot/meshpilot/mesh"
)

// ReadMeshConfig reads a MeshConfig file (istioctl's --meshConfigFile).
func ReadMeshConfig(path string) (*meshconfig.MeshConfig, []Problem, error) {
	mc := &meshconfig.MeshConfig{}
	probs, err := readProtoFile(path, mc)
	return mc, probs, err
}

// ReadMeshNetworks reads a MeshNetworks file.
func ReadMeshNetworks(path string) (*meshconfig.MeshNetworks, []Problem, error) {
	mn := &meshconfig.MeshNetworks{}
	probs, err := readProtoFile(path, mn)
	return mn, probs, err
}

func readProtoFile(path string, m proto.Message) ([]Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return decodeProtoText(path, 0, string(data), m), nil
}

// decodeProtoText decodes YAML text into m; problems carry path and the
// line within the file (text starts after line off).
func decodeProtoText(file string, off int, text string, m proto.Message) []Problem {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		return []Problem{{File: file, Line: off + 1, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	n := yamlconv.Resolve(&root)
	if n == nil {
		return nil
	}
	var probs []Problem
	for _, e := range yamlconv.DecodeProto(n, m.ProtoReflect(), "", yamlconv.NewBudget(yamlconv.DefaultLimits)) {
		probs = append(probs, Problem{File: file, Line: e.Line + off, Field: e.Path, Msg: e.Msg})
	}
	return probs
}

// meshConfigFromConfigMaps reads mesh config and networks from the istio
// ConfigMap of the root namespace when it is among the inputs.
func meshConfigFromConfigMaps(res *Result) {
	for _, o := range res.Objects {
		if o.GroupKind != mesh.ConfigMap || o.Name() != "istio" {
			continue
		}
		cm := o.Obj.(*corev1.ConfigMap)
		if text, ok := cm.Data["mesh"]; ok && res.MeshConfig == nil {
			mc := &meshconfig.MeshConfig{}
			for _, p := range decodeProtoText(o.Source.File, o.Source.Line, text, mc) {
				p.Field = "data.mesh." + p.Field
				res.Problems = append(res.Problems, p)
			}
			res.MeshConfig = mc
		}
		if text, ok := cm.Data["meshNetworks"]; ok && res.MeshNetworks == nil {
			mn := &meshconfig.MeshNetworks{}
			for _, p := range decodeProtoText(o.Source.File, o.Source.Line, text, mn) {
				p.Field = "data.meshNetworks." + p.Field
				res.Problems = append(res.Problems, p)
			}
			res.MeshNetworks = mn
		}
	}
}

// ReadMeshConfigMaps sets MeshConfig and MeshNetworks (those not already
// set) from an istio ConfigMap among r.Objects: for results assembled from
// objects read elsewhere, such as a live cluster.
func (r *Result) ReadMeshConfigMaps() { meshConfigFromConfigMaps(r) }
