/**
 * The checks' results: one row per check, with its status and what it found, and the aligned table
 * `npm run render` prints.
 */

export type CheckStatus = "pass" | "warn" | "fail";

/** One row of the checks table. */
export interface CheckResult {
    /** Kebab-case check name, e.g. `velero-node-agent`. */
    readonly check: string;
    /** What was checked, e.g. the release or the object. */
    readonly subject: string;
    readonly status: CheckStatus;
    readonly detail: string;
}

/** A result that passes with `passDetail` when there are no problems, else fails with the problems. */
export function result(check: string, subject: string, problems: readonly string[], passDetail: string): CheckResult {
    return problems.length === 0
        ? { check, subject, status: "pass", detail: passDetail }
        : { check, subject, status: "fail", detail: problems.join("; ") };
}

/** The checks as an aligned table, one row per check. */
export function formatChecks(checks: readonly CheckResult[]): string {
    const rows = [
        ["STATUS", "CHECK", "SUBJECT", "DETAIL"],
        ...checks.map((c) => [c.status.toUpperCase(), c.check, c.subject, c.detail]),
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")).join("\n");
}
