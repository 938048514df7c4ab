// Package guardrail checks a mesh against an organisation's guardrail
// policy: a GuardrailPolicy file (apiVersion meshpilot.io/v1alpha1) of
// limits — maximum route timeout and retry attempts, allowed retryOn
// values, a required mTLS mode, forbidden kinds — and custom CEL rules, each
// scoped by kind, namespace, labels or Rancher project.
//
// Load reads and checks a policy strictly, reporting every problem with its
// file, line, column and field path; Analyzer turns a policy into an
// analyzer; CheckFix and FilterFixes withhold proposed fixes that would
// break a guardrail. Rules are evaluated as Kubernetes'
// ValidatingAdmissionPolicy evaluates its validations: the object as a
// JSON-shaped map named object, its Namespace as namespaceObject, the
// Kubernetes CEL libraries, and a per-call cost limit.
package guardrail
