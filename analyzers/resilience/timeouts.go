package resilience

import (
	"fmt"
	"time"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/meshpilot/meshpilot/analysis"
	"github.com/meshpilot/meshpilot/analyzers/codes"
	"github.com/meshpilot/meshpilot/mesh"
)

// RouteTimeouts checks the timeouts and retry budgets of HTTP routes
// against the route's workload class.
var RouteTimeouts = &analysis.Analyzer{
	Name: "resilience.RouteTimeouts",
	Doc: "route timeouts and retry budgets\n\n" +
		"Reports HTTP routes that retry (explicitly, or by Istio's default policy) without a timeout, whose tries " +
		"do not fit in the timeout, whose timeouts are invalid or beyond the workload class's maximum, or that " +
		"allow more attempts than the class does.",
	Codes: []*analysis.Code{codes.RetriesWithoutTimeout, codes.DefaultRetriesWithoutTimeout,
		codes.RetryBudgetExceedsTimeout, codes.PerTryTimeoutNotBelowTimeout, codes.ExcessiveRetryAttempts,
		codes.InvalidTimeout, codes.ExcessiveTimeout},
	Run: runRouteTimeouts,
}

func runRouteTimeouts(p *analysis.Pass) (any, error) {
	cr := newClassResolver(p.Snapshot)
	for _, vs := range virtualServices(p.Snapshot) {
		for i, r := range vs.Spec.GetHttp() {
			if !forwards(r) || !reachesKnownHost(p.Snapshot, vs.Obj, r) {
				continue
			}
			rc := routeCtx{vs: vs.Obj, i: i, r: r, cls: cr.route(vs.Obj, r), retry: routeRetries(r)}
			rc.check(p)
		}
	}
	return nil, nil
}

// reachesKnownHost: a route whose destinations are all unknown hosts sends
// traffic nowhere; IST0101 reports it, and its timeouts are moot.
func reachesKnownHost(s *mesh.Snapshot, vs *mesh.Object, r *networking.HTTPRoute) bool {
	for _, rd := range r.GetRoute() {
		if h := rd.GetDestination().GetHost(); h != "" && len(s.LookupHost(s.FQDN(h, vs.Namespace()), vs.Namespace())) > 0 {
			return true
		}
	}
	return false
}

// routeCtx is one HTTP route under check.
type routeCtx struct {
	vs    *mesh.Object
	i     int
	r     *networking.HTTPRoute
	cls   classSource
	retry retryPolicy
}

func (rc routeCtx) where() string { return routeName("http", rc.i, rc.r.GetName()) }

// label names the route in explanations: "route 0 of VirtualService shop/cart".
func (rc routeCtx) label() string {
	return routeLabel(rc.i, rc.r.GetName()) + " of " + rc.vs.Ref().String()
}

func (rc routeCtx) path(parts ...any) string {
	return ptr(append([]any{"spec", "http", rc.i}, parts...)...)
}

func (rc routeCtx) report(p *analysis.Pass, code *analysis.Code, fixes []analysis.Fix, format string, args ...any) {
	f := analysis.NewFinding(code, rc.vs, fmt.Sprintf(format, args...))
	if fixes != nil {
		f.Fixes = fixes
	}
	p.Report(f)
}

func (rc routeCtx) check(p *analysis.Pass) {
	cls, rp := rc.cls.class, rc.retry
	if rp.explicit && rp.attempts > 0 && rp.hasPer && rp.perTry < time.Millisecond {
		rc.report(p, codes.InvalidTimeout, fixFor("remove the invalid perTryTimeout",
			fmt.Sprintf("Removes perTryTimeout %s from %s: Istio rejects per-try timeouts under 1ms; without it each try may use the rest of the route timeout.",
				durValue(rp.perTry), rc.label()), del(rc.vs, rc.path("retries", "perTryTimeout"))),
			"%s: retries.perTryTimeout is %s; Istio requires at least 1ms", rc.where(), durValue(rp.perTry))
		rp.hasPer = false
		rc.retry = rp
	}
	t := rc.r.GetTimeout()
	timeout := dur(t)
	switch {
	case t == nil:
		rc.checkMissing(p)
	case timeout < 0 || (timeout == 0 && cls.RequireTimeout) || (timeout > 0 && timeout < time.Millisecond):
		what := "disables the route timeout, so a hung upstream holds the call forever"
		if timeout < 0 {
			what = "is negative, which Istio rejects"
		} else if timeout > 0 {
			what = "is below Envoy's 1ms granularity, so it becomes 0 and disables the route timeout"
		}
		rc.report(p, codes.InvalidTimeout, rc.timeoutFix("replace", durValue(timeout)),
			"%s: timeout %s %s (%s)", rc.where(), durValue(timeout), what, rc.cls.describe())
	case timeout == 0:
		// A streaming route that disables its timeout on purpose.
	default:
		if cls.MaxTimeout > 0 && timeout > cls.MaxTimeout {
			rc.report(p, codes.ExcessiveTimeout, rc.lowerTimeoutFix(timeout),
				"%s: timeout %s is above the %s maximum of %s for %s", rc.where(), durValue(timeout),
				cls.Name, durValue(cls.MaxTimeout), rc.cls.describe())
		}
		rc.checkBudget(p, timeout)
	}
	if rp.explicit && rp.attempts > cls.MaxAttempts {
		rc.report(p, codes.ExcessiveRetryAttempts, fixFor(fmt.Sprintf("lower retry attempts to %d", cls.MaxAttempts),
			fmt.Sprintf("Lowers retries.attempts of %s from %d to %d, the %s maximum: a failing upstream now sees at most %d tries per call instead of %d.",
				rc.label(), rp.attempts, cls.MaxAttempts, cls.Name, cls.MaxAttempts+1, int64(rp.attempts)+1),
			set(rc.vs, rc.path("retries", "attempts"), int(cls.MaxAttempts))),
			"%s: retries.attempts is %d, above the maximum of %d for %s", rc.where(), rp.attempts, cls.MaxAttempts, rc.cls.describe())
	}
}

// checkMissing reports a route that retries with no timeout at all.
func (rc routeCtx) checkMissing(p *analysis.Pass) {
	if !rc.cls.class.RequireTimeout || rc.retry.attempts <= 0 {
		return
	}
	if rc.retry.explicit {
		rc.report(p, codes.RetriesWithoutTimeout, rc.timeoutFix("add", ""),
			"%s retries (%s) but has no timeout, so a hung upstream holds each try indefinitely (%s)",
			rc.where(), rc.retry.describe(), rc.cls.describe())
		return
	}
	rc.report(p, codes.DefaultRetriesWithoutTimeout, rc.timeoutFix("add", ""),
		"%s has no timeout and no retries field, so Istio retries it twice on connection failures and 503 with no overall deadline (%s)",
		rc.where(), rc.cls.describe())
}

// checkBudget compares the tries with a valid route timeout.
func (rc routeCtx) checkBudget(p *analysis.Pass, timeout time.Duration) {
	rp := rc.retry
	if rp.attempts <= 0 || !rp.hasPer {
		return
	}
	if rp.perTry >= timeout {
		rc.report(p, codes.PerTryTimeoutNotBelowTimeout, rc.budgetFixes(timeout),
			"%s: retries.perTryTimeout %s is not below the route timeout %s, so after one slow try no retry can run",
			rc.where(), durValue(rp.perTry), durValue(timeout))
		return
	}
	if need := budget(rp.attempts, rp.perTry); need > timeout {
		rc.report(p, codes.RetryBudgetExceedsTimeout, rc.budgetFixes(timeout),
			"%s: the first try and %d retries of %s each take up to %s, longer than the route timeout %s",
			rc.where(), rp.attempts, durValue(rp.perTry), durValue(need), durValue(timeout))
	}
}

func (rp retryPolicy) describe() string {
	s := fmt.Sprintf("attempts %d", rp.attempts)
	if rp.hasPer {
		s += ", perTryTimeout " + durValue(rp.perTry)
	}
	return s
}

const maxDuration = time.Duration(1<<63 - 1)

// budget is the time the first try and attempts retries may take.
func budget(attempts int32, perTry time.Duration) time.Duration {
	tries := time.Duration(attempts) + 1
	if perTry > 0 && perTry > maxDuration/tries {
		return maxDuration
	}
	return perTry * tries
}

func roundUpSecond(d time.Duration) time.Duration {
	if d > maxDuration-time.Second {
		return maxDuration
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// fitTimeout picks a timeout for the route's class that the tries fit in:
// the class default, raised to the tries' budget while within the class
// maximum; otherwise the default with perTryTimeout lowered to share it.
// newPerTry is 0 when perTryTimeout stays. ok is false when no fit exists.
func (rc routeCtx) fitTimeout(base time.Duration) (timeout, newPerTry time.Duration, ok bool) {
	cls, rp := rc.cls.class, rc.retry
	timeout = base
	if rp.attempts <= 0 || !rp.hasPer {
		return timeout, 0, true
	}
	need := budget(rp.attempts, rp.perTry)
	if need <= timeout {
		return timeout, 0, true
	}
	if cls.MaxTimeout == 0 || need <= cls.MaxTimeout {
		timeout = roundUpSecond(need)
		if cls.MaxTimeout > 0 && timeout > cls.MaxTimeout {
			timeout = cls.MaxTimeout
		}
		return timeout, 0, true
	}
	newPerTry = (timeout / (time.Duration(rp.attempts) + 1)).Truncate(time.Millisecond)
	return timeout, newPerTry, newPerTry >= time.Millisecond
}

// timeoutFix sets the class default timeout (verb "add" or "replace" the
// value old), fitted to the retries. A class with no timeout (streaming)
// gets the bad timeout removed instead.
func (rc routeCtx) timeoutFix(verb, old string) []analysis.Fix {
	cls := rc.cls.class
	if !cls.RequireTimeout {
		if verb == "add" {
			return nil
		}
		return fixFor("remove the invalid timeout",
			fmt.Sprintf("Removes timeout %s from %s: a %s route needs no route timeout, and this value is invalid.", old, rc.label(), cls.Name),
			del(rc.vs, rc.path("timeout")))
	}
	timeout, newPerTry, ok := rc.fitTimeout(cls.DefaultTimeout)
	if !ok {
		return nil
	}
	action := "Adds a " + durValue(timeout) + " timeout to "
	if verb == "replace" {
		action = "Replaces timeout " + old + " with " + durValue(timeout) + " on "
	}
	edits := []analysis.Edit{set(rc.vs, rc.path("timeout"), durValue(timeout))}
	expl := action + rc.label() + ": calls slower than " + durValue(timeout) +
		" now fail with 504 instead of holding a connection" + rc.triesNote(timeout, newPerTry, &edits) + "."
	return fixFor("set a "+durValue(timeout)+" timeout", expl, edits...)
}

// triesNote says how the retries fit the new timeout, adding the
// perTryTimeout edit when it has to shrink.
func (rc routeCtx) triesNote(timeout, newPerTry time.Duration, edits *[]analysis.Edit) string {
	rp := rc.retry
	switch {
	case rp.attempts <= 0:
		return ""
	case newPerTry > 0:
		*edits = append(*edits, set(rc.vs, rc.path("retries", "perTryTimeout"), durValue(newPerTry)))
		return fmt.Sprintf("; perTryTimeout drops from %s to %s so the first try and %d retries (%d × %s) fit inside it",
			durValue(rp.perTry), durValue(newPerTry), rp.attempts, rp.attempts+1, durValue(newPerTry))
	case rp.hasPer:
		return fmt.Sprintf("; the first try and %d retries (%d × %s) fit inside it", rp.attempts, rp.attempts+1, durValue(rp.perTry))
	}
	return fmt.Sprintf("; the first try and %d retries share it", rp.attempts)
}

// lowerTimeoutFix lowers an excessive timeout to the class maximum.
func (rc routeCtx) lowerTimeoutFix(old time.Duration) []analysis.Fix {
	cls := rc.cls.class
	timeout, newPerTry, ok := rc.fitTimeout(cls.MaxTimeout)
	if !ok {
		return nil
	}
	edits := []analysis.Edit{set(rc.vs, rc.path("timeout"), durValue(timeout))}
	expl := fmt.Sprintf("Lowers the timeout of %s from %s to %s, the %s maximum: callers stop waiting on a hung upstream after %s",
		rc.label(), durValue(old), durValue(timeout), cls.Name, durValue(timeout)) + rc.triesNote(timeout, newPerTry, &edits) + "."
	return fixFor("lower the timeout to "+durValue(timeout), expl, edits...)
}

// budgetFixes are the alternatives for tries that overrun the timeout:
// shrink perTryTimeout to share the timeout, or raise the timeout within the
// class maximum.
func (rc routeCtx) budgetFixes(timeout time.Duration) []analysis.Fix {
	rp, cls := rc.retry, rc.cls.class
	var fixes []analysis.Fix
	tries := time.Duration(rp.attempts) + 1
	if per := (timeout / tries).Truncate(time.Millisecond); per >= time.Millisecond {
		fixes = append(fixes, fixFor("lower perTryTimeout to "+durValue(per),
			fmt.Sprintf("Lowers retries.perTryTimeout of %s from %s to %s: the first try and %d retries (%d × %s) now fit inside the %s route timeout, so every configured retry can run.",
				rc.label(), durValue(rp.perTry), durValue(per), rp.attempts, rp.attempts+1, durValue(per), durValue(timeout)),
			set(rc.vs, rc.path("retries", "perTryTimeout"), durValue(per)))...)
	}
	need := budget(rp.attempts, rp.perTry)
	if raised := roundUpSecond(need); need < maxDuration && (cls.MaxTimeout == 0 || raised <= cls.MaxTimeout) {
		fixes = append(fixes, fixFor("raise the timeout to "+durValue(raised),
			fmt.Sprintf("Raises the timeout of %s from %s to %s: the first try and %d retries (%d × %s) now fit inside it%s.",
				rc.label(), durValue(timeout), durValue(raised), rp.attempts, rp.attempts+1, durValue(rp.perTry), withinMax(cls)),
			set(rc.vs, rc.path("timeout"), durValue(raised)))...)
	}
	return fixes
}

func withinMax(cls Class) string {
	if cls.MaxTimeout == 0 {
		return ""
	}
	return ", within the " + cls.Name + " maximum of " + durValue(cls.MaxTimeout)
}
