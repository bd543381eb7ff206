/** Parsing of how a drill verifies the rebuild. */
import { DERIVED_DEFAULTS } from "./keys";
import { ConfigReader, q, setListCmd } from "./reader";
import type { DrillCheck, DrillSettings, Mode } from "./types";
import { isDnsLabel } from "./values";

/** What `kubectl exec` accepts as a target (a pod, or a workload whose pod it picks). */
const TARGET = /^(pod|po|deploy|deployment|statefulset|sts|daemonset|ds|job)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const EXAMPLE = "shop/deploy/postgres pg_isready -U shop";

/** Splits a command into words on spaces, honouring single and double quotes (no shell runs it). */
function words(text: string): string[] | undefined {
    const out: string[] = [];
    const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
        out.push(m[1] ?? m[2] ?? m[3]);
    }
    return text.split(/['"]/).length % 2 === 1 ? out : undefined;
}

/** The drill's verification settings; undefined outside a drill (where the keys are refused). */
export function parseDrill(
    r: ConfigReader,
    mode: Mode,
    restoredNamespaces: readonly string[] = [],
): DrillSettings | undefined {
    if (mode !== "drill") {
        r.forbidInMode("drillChecks", mode, "only a drill verifies the rebuild with checks");
        r.forbidInMode("drillVerifyTimeoutMinutes", mode, "only a drill verifies the rebuild with checks");
        return undefined;
    }
    const checks: DrillCheck[] = [];
    for (const entry of r.list("drillChecks", [`'${EXAMPLE}'`])) {
        const parts = words(entry.trim());
        const [where, ...command] = parts ?? [];
        const m = where === undefined ? null : /^([^/]+)\/(.+)$/.exec(where);
        if (parts === undefined || m === null || !isDnsLabel(m[1]) || !TARGET.test(m[2]) || command.length === 0) {
            r.problem(
                "drillChecks",
                `${q(entry)} is not "<namespace>/<kind>/<name> <command> [args...]" (kind: pod, deploy, statefulset, daemonset or job; quotes balanced). Fix: \`${setListCmd("drillChecks", [`'${EXAMPLE}'`])}\`.`,
            );
            continue;
        }
        if (restoredNamespaces.length > 0 && !restoredNamespaces.includes(m[1])) {
            // The check's exec permission is created in its namespace once the restore made it.
            r.problem(
                "drillChecks",
                `${q(entry)} checks namespace ${m[1]}, which restoreNamespaces does not restore. Fix: add it to restoreNamespaces or drop the check.`,
            );
            continue;
        }
        checks.push({ namespace: m[1], target: m[2], command });
    }
    const verifyTimeoutMinutes =
        r.int("drillVerifyTimeoutMinutes", 5, 24 * 60, DERIVED_DEFAULTS.drillVerifyTimeoutMinutes) ??
        DERIVED_DEFAULTS.drillVerifyTimeoutMinutes;
    return { checks, verifyTimeoutMinutes };
}
