// Package analysis is the framework of meshpilot's checks, modelled on
// golang.org/x/tools/go/analysis: an Analyzer is data, it sees the mesh only
// through its Pass, and it reports findings through Pass.Report. A returned
// error means the check itself broke; findings never travel as errors.
package analysis

import (
	"fmt"
	"strings"

	"github.com/meshpilot/meshpilot/mesh"
	"github.com/meshpilot/meshpilot/telemetry"
)

// Level is a finding's severity, ordered.
type Level int

// Levels, lowest first. They match istioctl's Info, Warning and Error.
const (
	Info Level = iota + 1
	Warning
	Error
)

func (l Level) String() string {
	switch l {
	case Info:
		return "Info"
	case Warning:
		return "Warning"
	case Error:
		return "Error"
	}
	return "Unknown"
}

// ParseLevel reads "info", "warning"/"warn" or "error", in any case.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "info":
		return Info, nil
	case "warning", "warn":
		return Warning, nil
	case "error":
		return Error, nil
	}
	return 0, fmt.Errorf("unknown level %q (want info, warning or error)", s)
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Code is a message code: IST codes shared with istioctl, MP codes our own.
type Code struct {
	ID    string // "IST0101"
	Name  string // "ReferencedResourceNotFound"
	Level Level
	Doc   string // what it means
	Fix   string // how to fix it
	// Equivalents are other tools' names for the same finding ("KIA0101").
	Equivalents []string
}

// Analyzer is one check, as data.
type Analyzer struct {
	// Name is a short identifier, unique among analyzers.
	Name string
	// Doc says what the analyzer checks: a short title line, then detail.
	Doc string
	// Codes are the codes it may report.
	Codes []*Code
	// Requires are analyzers whose results Run reads through Pass.ResultOf.
	Requires []*Analyzer
	// Run performs the check. Its result, if any, is available to the
	// analyzers that require this one.
	Run func(*Pass) (any, error)
	// Telemetry marks a check of configuration against observed traffic:
	// it runs only when the run has traffic evidence (Options.Telemetry).
	Telemetry bool
}

func (a *Analyzer) String() string { return a.Name }

// Pass is what one analyzer sees during one run.
type Pass struct {
	Analyzer *Analyzer
	Snapshot *mesh.Snapshot
	ResultOf map[*Analyzer]any
	// Telemetry is the observed traffic, for analyzers marked Telemetry;
	// nil for the others.
	Telemetry *telemetry.Graph
	// Report delivers a finding. It is safe to call from one goroutine at a
	// time per pass.
	Report func(Finding)
}

// Reportf reports a finding of code on obj with a formatted message.
func (p *Pass) Reportf(code *Code, obj *mesh.Object, format string, args ...any) {
	p.Report(NewFinding(code, obj, fmt.Sprintf(format, args...)))
}

// Finding is one reported problem.
type Finding struct {
	Code        string   `json:"code"`
	Level       Level    `json:"level"`
	Resource    string   `json:"resource"` // "Kind ns/name", as istioctl names it
	Message     string   `json:"message"`
	File        string   `json:"file,omitempty"`
	Line        int      `json:"line,omitempty"`
	Equivalents []string `json:"equivalents"`
	Fixes       []Fix    `json:"fixes"`
	Analyzer    string   `json:"analyzer,omitempty"`
	Cluster     string   `json:"cluster,omitempty"`
	// Project is the Rancher project of the finding's namespace
	// ("Default"), set by the Rancher source.
	Project   string       `json:"project,omitempty"`
	Namespace string       `json:"namespace,omitempty"`
	Object    *mesh.Object `json:"-"`
}

// NewFinding builds a finding on obj (which may be nil for mesh-wide
// findings).
func NewFinding(code *Code, obj *mesh.Object, msg string) Finding {
	f := Finding{Code: code.ID, Level: code.Level, Message: msg, Equivalents: code.Equivalents, Object: obj}
	if f.Equivalents == nil {
		f.Equivalents = []string{}
	}
	f.Fixes = []Fix{}
	if obj != nil {
		f.Resource = obj.Ref().String()
		f.File = obj.Source.File
		f.Line = obj.Source.Line
		f.Cluster = obj.Source.Cluster
		f.Namespace = obj.Namespace()
		if obj.GroupKind == mesh.Namespace {
			// A finding on a Namespace is about that namespace: -n keeps it,
			// reports group it there, its Rancher project is that namespace's.
			f.Namespace = obj.Name()
		}
	}
	return f
}

// Fix is a suggested change: alternatives, at most one applied.
type Fix struct {
	Message string `json:"message"` // verb phrase: "set a 2s timeout"
	// Explanation says in plain English what the change does and why,
	// rendered deterministically from the edits and the evidence: "Adds a
	// 3s timeout to route default of VirtualService shop/payments: calls
	// slower than 3s now fail with 504 instead of holding a connection."
	Explanation string `json:"explanation"`
	Edits       []Edit `json:"edits"`
}

// Edit sets (or, with Delete, removes) the value at a path of an object.
// Value holds JSON-shaped data (string, bool, float64/int, []any,
// map[string]any).
type Edit struct {
	Resource string `json:"resource"` // "Kind namespace/name", as Finding.Resource
	Path     string `json:"path"`     // JSON pointer into the object: "/spec/http/0/timeout"
	Value    any    `json:"value,omitempty"`
	Delete   bool   `json:"delete,omitempty"`
}
