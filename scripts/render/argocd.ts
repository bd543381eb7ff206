/**
 * The Argo CD fact checks: what the program relies on from an Argo CD release, read from the run
 * ({@link argoCdExpectations}), and one check per fact against the chart's rendered objects. Also how Argo CD
 * reads `resource.exclusions`: its glob, its entries, and whether they exclude a kind on a cluster.
 */
import { parse as parseYaml } from "yaml";

import { IN_CLUSTER_SERVER } from "../../components/argocd";
import { ProgramRun } from "../../engine";
import { findObject, objectName } from "./manifests";
import { KubeObject, ObjectOrigin, ReleaseRecord, registeredCustomResources } from "./records";
import { CheckResult, result } from "./report";
import { isRecord, str, strings } from "./values";

/** A kind, by API group, that Argo CD must leave alone. */
export interface GroupKind {
    readonly group: string;
    readonly kind: string;
}

/**
 * What `resource.exclusions` must exclude on the in-cluster destination: the persistent data Velero restores
 * (DESIGN §5; Argo CD would otherwise apply or prune claims and Secrets the restore brought back) and Velero's
 * Backups, which inherit a Schedule's tracking label and would be pruned as extraneous (velero #2975).
 */
export const REQUIRED_ARGO_CD_EXCLUSIONS: readonly GroupKind[] = [
    { group: "", kind: "PersistentVolume" },
    { group: "", kind: "PersistentVolumeClaim" },
    { group: "", kind: "Secret" },
    { group: "velero.io", kind: "Backup" },
];

/** The destination the root Application deploys the cluster's own apps to, where the exclusions must hold. */
export const ARGO_CD_IN_CLUSTER = IN_CLUSTER_SERVER;

/**
 * Argo CD's glob (`util/glob`, gobwas/glob compiled without separators): `*` any run of characters, `?` one,
 * `[...]` / `[!...]` a class, `{a,b}` alternatives, `\` escapes. Case-sensitive.
 */
export function argoGlobMatch(pattern: string, text: string): boolean {
    const toRegex = (p: string): string => {
        let out = "";
        for (let i = 0; i < p.length; i++) {
            const c = p[i];
            if (c === "\\" && i + 1 < p.length) {
                out += p[++i].replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
            } else if (c === "*") {
                out += "[\\s\\S]*";
            } else if (c === "?") {
                out += "[\\s\\S]";
            } else if (c === "[") {
                const close = p.indexOf("]", i + 2);
                if (close < 0) {
                    out += "\\[";
                    continue;
                }
                const body = p.slice(i + 1, close);
                const negated = body.startsWith("!");
                out += `[${negated ? "^" : ""}${(negated ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&")}]`;
                i = close;
            } else if (c === "{") {
                // Split at the top-level commas up to the matching brace.
                let depth = 0;
                let end = -1;
                const parts: string[] = [];
                let part = "";
                for (let j = i + 1; j < p.length; j++) {
                    const d = p[j];
                    if (d === "{") {
                        depth++;
                    } else if (d === "}") {
                        if (depth === 0) {
                            end = j;
                            break;
                        }
                        depth--;
                    } else if (d === "," && depth === 0) {
                        parts.push(part);
                        part = "";
                        continue;
                    }
                    part += d;
                }
                if (end < 0) {
                    out += "\\{";
                    continue;
                }
                parts.push(part);
                out += `(?:${parts.map(toRegex).join("|")})`;
                i = end;
            } else {
                out += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
            }
        }
        return out;
    };
    return new RegExp(`^${toRegex(pattern)}$`).test(text);
}

/** One parsed `resource.exclusions` entry (argo-cd `util/settings/filtered_resource.go`). */
interface ExclusionEntry {
    readonly apiGroups: readonly string[];
    readonly kinds: readonly string[];
    readonly clusters: readonly string[];
    /** Any narrowing key beyond the three: such an entry may exclude only some objects of its kinds. */
    readonly narrowedBy: readonly string[];
}

/** Parses a `resource.exclusions` string the way Argo CD reads it: a YAML list of filter entries. */
export function parseExclusions(text: string): { entries: ExclusionEntry[]; error?: string } {
    let parsed: unknown;
    try {
        parsed = parseYaml(text);
    } catch (e) {
        return { entries: [], error: `is not YAML: ${(e as Error).message.split("\n")[0]}` };
    }
    if (parsed === null || parsed === undefined) {
        return { entries: [] };
    }
    if (!Array.isArray(parsed)) {
        return { entries: [], error: "is not a YAML list" };
    }
    const entries: ExclusionEntry[] = [];
    for (const item of parsed) {
        if (!isRecord(item)) {
            return { entries: [], error: `has an entry that is not a map: ${JSON.stringify(item)}` };
        }
        entries.push({
            apiGroups: strings(item.apiGroups),
            kinds: strings(item.kinds),
            clusters: strings(item.clusters),
            narrowedBy: Object.keys(item).filter((k) => !["apiGroups", "kinds", "clusters"].includes(k)),
        });
    }
    return { entries };
}

/**
 * Whether an exclusion list excludes a kind on a cluster: some entry matches group, kind and cluster, where an
 * empty list matches everything (`FilteredResource.Match`: `matchGroup && matchKind && MatchCluster`).
 */
export function isExcluded(entries: readonly ExclusionEntry[], gk: GroupKind, cluster: string): boolean {
    return entries.some(
        (e) =>
            e.narrowedBy.length === 0 &&
            (e.apiGroups.length === 0 || e.apiGroups.some((g) => argoGlobMatch(g, gk.group))) &&
            (e.kinds.length === 0 || e.kinds.some((k) => k === "*" || k === gk.kind)) &&
            (e.clusters.length === 0 || e.clusters.some((c) => argoGlobMatch(c, cluster))),
    );
}

/** What the program relies on from an Argo CD release, from the run as a whole. */
export interface ArgoCdExpectations {
    /** Kinds `resource.exclusions` must exclude on {@link ARGO_CD_IN_CLUSTER}. Defaults to {@link REQUIRED_ARGO_CD_EXCLUSIONS}. */
    readonly requiredExclusions?: readonly GroupKind[];
    /**
     * The chart's own default `configs.cm."resource.exclusions"` (its values.yaml): setting the value replaces
     * that list, so every kind in it must still be excluded. Not checked when undefined.
     */
    readonly chartDefaultExclusions?: string;
    /** The root Application's name (stack output `argoCdRootApp`). */
    readonly rootApp?: string;
    /** Argo CD's namespace as the program reports it (stack output `argoCdNamespace`). */
    readonly namespace?: string;
    /** The argoproj.io objects the program registers itself. */
    readonly registered: readonly ObjectOrigin[];
}

/** Reads the {@link ArgoCdExpectations} from a run and, when known, the chart's default exclusions. */
export function argoCdExpectations(run: ProgramRun, chartDefaultExclusions?: string): ArgoCdExpectations {
    return {
        chartDefaultExclusions,
        rootApp: str(run.outputs.argoCdRootApp),
        namespace: str(run.outputs.argoCdNamespace),
        registered: registeredCustomResources(run, ["argoproj.io"]),
    };
}

/** The chart default `configs.cm."resource.exclusions"` in a chart's default values, if it has one. */
export function defaultExclusionsOf(chartValues: Readonly<Record<string, unknown>>): string | undefined {
    const configs = isRecord(chartValues.configs) ? chartValues.configs : {};
    const cm = isRecord(configs.cm) ? configs.cm : {};
    return str(cm["resource.exclusions"]);
}

function groupKinds(entries: readonly ExclusionEntry[]): GroupKind[] {
    return entries.flatMap((e) => e.apiGroups.flatMap((group) => e.kinds.map((kind) => ({ group, kind }))));
}

function gkName(gk: GroupKind): string {
    return gk.group === "" ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** Every `configs.cm` and `configs.params` key reaches its ConfigMap (argo-cd chart `argocd-configs/`). */
export function checkConfigMapKeys(manifests: readonly KubeObject[], release: ReleaseRecord): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const configs = isRecord(release.values.configs) ? release.values.configs : {};
    const results: CheckResult[] = [];
    for (const [key, configMap] of [
        ["cm", "argocd-cm"],
        ["params", "argocd-cmd-params-cm"],
    ] as const) {
        const given = isRecord(configs[key]) ? configs[key] : {};
        // `create` and `annotations` shape the ConfigMap itself; the chart leaves them out of its data.
        const entries = Object.entries(given).filter(([k]) => k !== "create" && k !== "annotations");
        if (entries.length === 0) {
            continue;
        }
        const cm = findObject(manifests, "ConfigMap", configMap);
        const data = cm !== undefined && isRecord(cm.data) ? cm.data : undefined;
        const problems: string[] = [];
        if (data === undefined) {
            problems.push(`ConfigMap ${configMap} is not rendered`);
        } else {
            for (const [k, v] of entries) {
                const want = typeof v === "string" ? v : JSON.stringify(v);
                if (data[k] === undefined) {
                    problems.push(`configs.${key}.${k} is not in ${configMap}`);
                } else if (typeof v === "string" && data[k] !== want) {
                    problems.push(`${configMap} ${k} differs from configs.${key}.${k}`);
                }
            }
        }
        results.push(
            result(
                `argocd-${configMap}`,
                subject,
                problems,
                `${entries.length} key(s) of configs.${key} in ${configMap}`,
            ),
        );
    }
    return results;
}

/**
 * The rendered `resource.exclusions` leaves Velero's kinds alone and keeps the chart's defaults. What Argo CD will
 * read, from the rendered ConfigMap: the values may be right and still not reach it.
 */
export function checkResourceExclusions(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: ArgoCdExpectations,
): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    const problems: string[] = [];
    const cm = findObject(manifests, "ConfigMap", "argocd-cm");
    const text = cm !== undefined && isRecord(cm.data) ? str(cm.data["resource.exclusions"]) : undefined;
    const required = expect.requiredExclusions ?? REQUIRED_ARGO_CD_EXCLUSIONS;
    let defaults: GroupKind[] = [];
    if (text === undefined) {
        problems.push(
            cm === undefined
                ? "ConfigMap argocd-cm is not rendered: Argo CD manages every kind"
                : "argocd-cm has no resource.exclusions: Argo CD manages every kind",
        );
    } else {
        const { entries, error } = parseExclusions(text);
        if (error !== undefined) {
            problems.push(`argocd-cm resource.exclusions ${error}: Argo CD cannot load its settings`);
        }
        const missing = required.filter((gk) => !isExcluded(entries, gk, ARGO_CD_IN_CLUSTER));
        if (missing.length > 0) {
            problems.push(
                `argocd-cm resource.exclusions does not exclude ${missing.map(gkName).join(", ")} on ${ARGO_CD_IN_CLUSTER}: Argo CD would apply, overwrite or prune what Velero restores`,
            );
        }
        if (expect.chartDefaultExclusions !== undefined) {
            const parsedDefaults = parseExclusions(expect.chartDefaultExclusions);
            defaults = groupKinds(parsedDefaults.entries);
            const dropped = defaults.filter((gk) => !isExcluded(entries, gk, ARGO_CD_IN_CLUSTER));
            if (dropped.length > 0) {
                problems.push(
                    `argocd-cm resource.exclusions drops the chart's default exclusion of ${dropped.map(gkName).join(", ")}: the value replaces the chart's list, carry it over`,
                );
            }
        }
    }
    const carried =
        expect.chartDefaultExclusions === undefined
            ? ""
            : `, and the chart's ${defaults.length} default group/kind pair(s)`;
    return [
        result(
            "argocd-resource-exclusions",
            subject,
            problems,
            `excludes ${required.map(gkName).join(", ")} on ${ARGO_CD_IN_CLUSTER}${carried}`,
        ),
    ];
}

/**
 * The root Application is registered where Argo CD looks for it: without "apps in any namespace" Argo CD
 * reconciles Applications in its own namespace only.
 */
export function checkRootApp(release: ReleaseRecord, expect: ArgoCdExpectations): CheckResult[] {
    const subject = `release ${release.releaseName}`;
    if (expect.rootApp === undefined) {
        return [];
    }
    const problems: string[] = [];
    if (expect.namespace !== undefined && expect.namespace !== release.namespace) {
        problems.push(
            `stack output argoCdNamespace is ${expect.namespace}, but the release is in ${release.namespace}`,
        );
    }
    const apps = expect.registered.filter(
        (r) => r.object.kind === "Application" && r.object.metadata?.name === expect.rootApp,
    );
    if (apps.length !== 1) {
        problems.push(
            `${apps.length} registered Application(s) named ${expect.rootApp} (stack output argoCdRootApp), expected 1`,
        );
    }
    for (const app of apps.filter((a) => a.object.metadata?.namespace !== release.namespace)) {
        problems.push(
            `${objectName(app.object)} (${app.origin}) is not in ${release.namespace}: Argo CD never reconciles it`,
        );
    }
    return [
        result(
            "argocd-root-app",
            subject,
            problems,
            `Application ${expect.rootApp} registered in ${release.namespace}`,
        ),
    ];
}

/**
 * Argo CD: every `configs.cm` and `configs.params` key reaches its ConfigMap (argo-cd chart `argocd-configs/`);
 * the rendered `resource.exclusions` leaves Velero's kinds alone and keeps the chart's defaults; the root
 * Application is registered where Argo CD looks for it.
 */
export function checkArgoCdFacts(
    manifests: readonly KubeObject[],
    release: ReleaseRecord,
    expect: ArgoCdExpectations = { registered: [] },
): CheckResult[] {
    return [
        ...checkConfigMapKeys(manifests, release),
        ...checkResourceExclusions(manifests, release, expect),
        ...checkRootApp(release, expect),
    ];
}
