/** The gate's report: one row per violation, mandatory first, in a plain-text table for CI logs. */
import type { Evaluation, Violation } from "./evaluate";

/** `Kind name` from a URN (`urn:pulumi:stack::project::parent$type::name`). */
export function resourceOf(urn: string | undefined): string {
    if (urn === undefined) {
        return "(stack)";
    }
    const parts = urn.split("::");
    const typePath = parts[2] ?? "";
    const name = parts.slice(3).join("::");
    const type = typePath.substring(typePath.lastIndexOf("$") + 1);
    return `${type.substring(type.lastIndexOf(":") + 1)} ${name}`;
}

function sorted(violations: readonly Violation[]): Violation[] {
    const rank = (v: Violation) => (v.enforcementLevel === "mandatory" ? 0 : 1);
    return [...violations].sort((a, b) => rank(a) - rank(b) || a.policyName.localeCompare(b.policyName));
}

/** The table, or a one-line all-clear. */
export function formatTable(stack: string, evaluation: Evaluation): string {
    const rows = sorted(evaluation.violations).map((v) => [
        v.enforcementLevel,
        v.policyName,
        resourceOf(v.urn),
        v.message,
    ]);
    const mandatory = evaluation.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    const advisory = evaluation.violations.length - mandatory;
    const summary = `${stack}: ${mandatory} mandatory, ${advisory} advisory violation${advisory === 1 ? "" : "s"}`;
    if (rows.length === 0) {
        return `${summary}.\n`;
    }
    const header = ["LEVEL", "POLICY", "RESOURCE", "MESSAGE"];
    const widths = [0, 1, 2].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join("  ");
    return [
        line(header),
        line(widths.map((w) => "-".repeat(w)).concat("-------")),
        ...rows.map(line),
        "",
        `${summary}.`,
        "",
    ].join("\n");
}
