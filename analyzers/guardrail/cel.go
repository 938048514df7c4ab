package guardrail

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"k8s.io/apimachinery/pkg/util/version"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
)

// The variables a rule sees, named as in ValidatingAdmissionPolicy.
const (
	varObject    = "object"
	varNamespace = "namespaceObject"
)

// newEnv builds the environment rules compile in: Kubernetes' base CEL
// environment (its libraries, language settings and per-call cost limit)
// for expressions new to this version, with object and namespaceObject
// declared dynamic, as ValidatingAdmissionPolicy declares object.
func newEnv() (*cel.Env, error) {
	base := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	set, err := base.Extend(environment.VersionedOptions{
		IntroducedVersion: version.MajorMinor(1, 0),
		EnvOptions: []cel.EnvOption{
			cel.Variable(varObject, cel.DynType),
			cel.Variable(varNamespace, cel.DynType),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("extend base environment: %w", err)
	}
	return set.NewExpressionsEnv(), nil
}

// compile checks expr and makes its program: a compile error, or an
// output type other than want, is an error.
func compile(env *cel.Env, expr string, want *cel.Type) (cel.Program, error) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		// Keep CEL's messages ("ERROR: <input>:1:39: Syntax error: ..."),
		// not its drawing of the expression under them.
		var msgs []string
		for _, line := range strings.Split(iss.Err().Error(), "\n") {
			if strings.HasPrefix(line, "ERROR: ") {
				msgs = append(msgs, strings.TrimPrefix(line, "ERROR: "))
			}
		}
		return nil, fmt.Errorf("compile CEL: %s", strings.Join(msgs, "; "))
	}
	if !ast.OutputType().IsExactType(want) {
		return nil, fmt.Errorf("CEL expression must evaluate to %s, not %s", want, ast.OutputType())
	}
	prog, err := env.Program(ast,
		cel.CostLimit(celconfig.PerCallLimit),
		cel.InterruptCheckFrequency(celconfig.CheckFrequency))
	if err != nil {
		return nil, fmt.Errorf("instantiate CEL program: %w", err)
	}
	return prog, nil
}

// activation binds a rule's variables without allocating a map per call.
type activation struct {
	object, namespace any
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varObject:
		return a.object, true
	case varNamespace:
		return a.namespace, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// evalBool runs a boolean program.
func evalBool(prog cel.Program, act *activation) (bool, error) {
	v, _, err := prog.Eval(act)
	if err != nil {
		return false, err
	}
	return asBool(v)
}

func asBool(v ref.Val) (bool, error) {
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("expression returned %s, not bool", v.Type().TypeName())
	}
	return bool(b), nil
}
