/** Parsing of how a drill verifies the rebuild. */
import * as net from "node:net";

import { DERIVED_DEFAULTS } from "./keys";
import { ConfigReader, q, setListCmd } from "./reader";
import type { DrillCheck, DrillSettings, Mode } from "./types";
import { isDnsLabel } from "./values";

/** What `kubectl exec` accepts as a target (a pod, or a workload whose pod it picks). */
const TARGET = /^(pod|po|deploy|deployment|statefulset|sts|daemonset|ds|job)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const EXAMPLE = "shop/deploy/postgres pg_isready -U shop";
const EGRESS_EXAMPLE = "10.20.0.0/16";

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
        r.forbidInMode("drillEgressAllow", mode, "only a drill isolates its namespaces");
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
    const egressAllow: string[] = [];
    for (const entry of r.list("drillEgressAllow", [EGRESS_EXAMPLE])) {
        const problem = cidrProblem(entry);
        if (problem !== undefined) {
            r.problem("drillEgressAllow", `${q(entry)} ${problem}`);
        } else if (egressAllow.includes(entry)) {
            r.problem("drillEgressAllow", `lists ${q(entry)} twice. Fix: keep one entry per CIDR.`);
        } else {
            egressAllow.push(entry);
        }
    }
    return { checks, verifyTimeoutMinutes, egressAllow };
}

/** The address's bits, most significant first. */
function bits(address: string): number[] {
    if (net.isIPv4(address)) {
        return address.split(".").flatMap((o) => [...Number(o).toString(2).padStart(8, "0")].map(Number));
    }
    // Expand "::" and an embedded IPv4 tail, then 8 groups of 16 bits.
    const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const groups = (part: string | undefined) =>
        (part ?? "")
            .split(":")
            .filter((g) => g !== "")
            .flatMap((g) =>
                net.isIPv4(g)
                    ? [g.split(".").slice(0, 2), g.split(".").slice(2)].map(([a, b]) =>
                          ((Number(a) << 8) | Number(b)).toString(16),
                      )
                    : [g],
            );
    const h = groups(head);
    const t = groups(tail);
    const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
    return all.flatMap((g) => [...parseInt(g, 16).toString(2).padStart(16, "0")].map(Number));
}

/** The CIDR with its host bits cleared. */
function networkOf(address: string, prefix: number): string {
    const b = bits(address).map((x, i) => (i < prefix ? x : 0));
    const word = (from: number, width: number) => parseInt(b.slice(from, from + width).join(""), 2);
    if (net.isIPv4(address)) {
        return `${[0, 8, 16, 24].map((i) => word(i, 8)).join(".")}/${prefix}`;
    }
    const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => word(i * 16, 16).toString(16));
    // RFC 5952: the longest run of zero groups (two or more) becomes "::".
    const runs = groups.join(":").match(/(^|:)0(:0)+(:|$)/g) ?? [];
    const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), "");
    return `${longest === "" ? groups.join(":") : groups.join(":").replace(longest, "::")}/${prefix}`;
}

/**
 * Why an entry of drillEgressAllow cannot be a NetworkPolicy ipBlock of a drill, or undefined. The API server reads
 * `ipBlock.cidr` as a CIDR (kubernetes `pkg/apis/networking/validation` `ValidateIPBlock`); since 1.33 it warns
 * about host bits set (KEP-4858), which here more likely hides a typo than means anything.
 */
export function cidrProblem(entry: string): string | undefined {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    const family = m === null ? 0 : net.isIP(m[1]);
    const prefix = m === null ? NaN : Number(m[2]);
    if (m === null || family === 0 || prefix > (family === 4 ? 32 : 128)) {
        return `is not a CIDR (an IPv4 or IPv6 address, "/" and a prefix length of at most 32 or 128). Fix: \`${setListCmd("drillEgressAllow", [EGRESS_EXAMPLE])}\`.`;
    }
    if (prefix === 0) {
        return "allows every address, which undoes the drill's isolation (prod's APIs, DNS providers, mail). Fix: list only the networks the drill may reach.";
    }
    const network = networkOf(m[1], prefix);
    if (family === 4 && network !== entry) {
        return `has host bits set: the network is ${network}. Fix: write ${q(network)}.`;
    }
    if (
        family === 6 &&
        bits(m[1])
            .slice(prefix)
            .some((x) => x === 1)
    ) {
        return `has host bits set: the network is ${network}. Fix: write ${q(network)}.`;
    }
    return undefined;
}
