package guardrail

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"time"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/mesh"
)

// The policy file's identity.
const (
	APIVersion = "meshpilot.io/v1alpha1"
	Kind       = "GuardrailPolicy"
)

// Defaults, applied before each item is decoded.
const (
	DefaultLimitLevel = "error"
	DefaultRuleLevel  = "warning"
)

// document is the policy file as written.
type document struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   metadata `yaml:"metadata"`
	Spec       spec     `yaml:"spec"`
}

type metadata struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type spec struct {
	// Projects names Rancher projects: name → "<cluster>:<project>" id.
	Projects map[string]string `yaml:"projects"`
	Limits   []limitSpec       `yaml:"limits"`
	Rules    []ruleSpec        `yaml:"rules"`
}

type scopeSpec struct {
	Kinds             []string       `yaml:"kinds"` // rules only
	Namespaces        []string       `yaml:"namespaces"`
	ExcludeNamespaces []string       `yaml:"excludeNamespaces"`
	NamespaceSelector *labelSelector `yaml:"namespaceSelector"`
	ObjectSelector    *labelSelector `yaml:"objectSelector"`
	Projects          []string       `yaml:"projects"`
}

type labelSelector struct {
	MatchLabels      map[string]string `yaml:"matchLabels"`
	MatchExpressions []requirement     `yaml:"matchExpressions"`
}

type requirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values"`
}

type limitSpec struct {
	Name             string    `yaml:"name"`
	Description      string    `yaml:"description"`
	Level            string    `yaml:"level"`
	Scope            scopeSpec `yaml:"scope"`
	MaxRouteTimeout  string    `yaml:"maxRouteTimeout"`
	MaxRetryAttempts *int      `yaml:"maxRetryAttempts"`
	AllowedRetryOn   []string  `yaml:"allowedRetryOn"`
	RequiredMTLSMode string    `yaml:"requiredMtlsMode"`
	ForbiddenKinds   []string  `yaml:"forbiddenKinds"`
}

func (l *limitSpec) setDefaults() { l.Level = DefaultLimitLevel }

type ruleSpec struct {
	Name              string    `yaml:"name"`
	Description       string    `yaml:"description"`
	Level             string    `yaml:"level"`
	Scope             scopeSpec `yaml:"scope"`
	Expression        string    `yaml:"expression"`
	Message           string    `yaml:"message"`
	MessageExpression string    `yaml:"messageExpression"`
}

func (r *ruleSpec) setDefaults() { r.Level = DefaultRuleLevel }

// Policy is a loaded, checked and compiled guardrail policy. It is
// read-only and safe for concurrent use.
type Policy struct {
	File   string
	Name   string
	limits []*limit
	rules  []*rule
	// kinds lists, per kind, the limits and rules that may apply to it.
	kinds map[mesh.GroupKind]*kindChecks
}

type kindChecks struct {
	limits []*limit
	rules  []*rule
}

type limit struct {
	name  string
	level analysis.Level
	scope *scope

	maxTimeout     time.Duration // 0: no limit
	maxAttempts    int           // -1: no limit
	allowedRetryOn map[string]bool
	allowedList    []string
	mtls           string // "", STRICT or PERMISSIVE
	forbidden      map[mesh.GroupKind]bool
}

type rule struct {
	name          string
	level         analysis.Level
	scope         *scope
	expr          string
	prog          cel.Program
	message       string
	msgProg       cel.Program // nil without messageExpression
	usesNamespace bool
}

// scope selects the objects a limit or rule applies to: every part that is
// set must match.
type scope struct {
	kinds       map[mesh.GroupKind]bool // rules only; nil for limits
	namespaces  []string                // globs; empty: any
	exclude     []string
	nsSelector  labels.Selector // nil: any
	objSelector labels.Selector
	projects    []projectRef
}

// projectRef is a Rancher project id, with or without its cluster.
type projectRef struct{ cluster, project string }

// Load reads and checks the policy file at path. Every problem is
// reported in a *LoadError.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// Parse checks and compiles a policy read from file (named in errors).
func Parse(file string, data []byte) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &LoadError{Errs: []*Error{syntaxError(file, err)}}
	}
	if len(root.Content) == 0 {
		return nil, &LoadError{Errs: []*Error{{File: file, Msg: "empty policy file"}}}
	}
	doc := document{}
	d := &decoder{file: file, at: map[string]pos{}}
	d.decode(root.Content[0], reflect.ValueOf(&doc).Elem(), "")
	c := &checker{decoder: d, doc: &doc}
	p := c.check()
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool {
			a, b := d.errs[i], d.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return nil, &LoadError{Errs: d.errs}
	}
	p.File = file
	return p, nil
}

// Errors returns the problems of an error from Load or Parse, or nil when
// it is not a *LoadError.
func Errors(err error) []*Error {
	var le *LoadError
	if errors.As(err, &le) {
		return le.Errs
	}
	return nil
}
