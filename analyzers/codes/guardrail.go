package codes

import "github.com/meshpilot/meshpilot/analysis"

// Organisation guardrails (MP5xxx): limits and CEL rules of a
// GuardrailPolicy given with --policy. A finding's level is the one the
// policy gives the limit or rule; the level here is the default.
var (
	GuardrailLimitViolated = &analysis.Code{ID: "MP5001", Name: "GuardrailLimitViolated", Level: analysis.Error,
		Doc: "An object breaks a limit of the organisation's guardrail policy (--policy): a route timeout or retry count above the maximum, a retryOn value not allowed, an mTLS mode weaker than required, or a forbidden kind. The message names the limit and the value found.",
		Fix: "Bring the value named in the message within the limit, or ask the policy's owners to change the limit or its scope."}
	GuardrailRuleViolated = &analysis.Code{ID: "MP5002", Name: "GuardrailRuleViolated", Level: analysis.Warning,
		Doc: "An object fails a custom CEL rule of the organisation's guardrail policy (--policy), or the rule could not be evaluated on it. The message names the rule.",
		Fix: "Change the object so that the rule's expression holds; the rule's message says what it expects."}
)

// Guardrail lists the organisation guardrail findings (MP5xxx).
var Guardrail = []*analysis.Code{GuardrailLimitViolated, GuardrailRuleViolated}
