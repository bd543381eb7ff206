/**
 * Pulumi's `pulumi.com/waitFor` annotation (pulumi-kubernetes >= 4.24, `provider/pkg/metadata/overrides.go`
 * `ReadyCondition`): the provider holds a create or update until the live object satisfies it, then returns
 * the live object as the resource's outputs (`await.go`, `Creation`).
 *
 * - `jsonpath={.path}=value` compares the first selected value as a string; `jsonpath={.path}` alone holds
 *   once the path exists (`provider/pkg/jsonpath/jsonpath.go`, `Matches`); a JSON array of conditions holds
 *   when all of them do (`await/condition/all.go`).
 * - Filters are RFC 9535 (github.com/theory/jsonpath): a filter with no value holds once it selects anything.
 * - There is no failure condition (`await/internal/awaiter.go` ignores errors until the timeout), so a wait
 *   for a result must also end on the failed results, and the caller checks which one it got.
 */

/** The annotation key. */
export const WAIT_FOR = "pulumi.com/waitFor";

/** One `waitFor` value for several conditions that must all hold. */
export function waitForAll(conditions: readonly string[]): string {
    return conditions.length === 1 ? conditions[0] : JSON.stringify(conditions);
}

/**
 * A condition that holds once `.status.phase` is any of `phases`. The filter runs over the members of `.status`
 * (RFC 9535 `[?...]` selects children); only `phase` holds these strings. `'` quotes keep the value free of
 * `=`-splitting and shell quoting problems (`jsonpath.Parse` splits on a single `=` but keeps `==`).
 */
export function phaseIn(phases: readonly string[]): string {
    return `jsonpath={.status[?${phases.map((p) => `@ == '${p}'`).join(" || ")}]}`;
}
