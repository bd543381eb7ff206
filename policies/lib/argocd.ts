/**
 * Argo CD's `resource.exclusions` as the argo-cd chart takes it: one YAML string in
 * `configs.cm["resource.exclusions"]`, a list of `{apiGroups, kinds, clusters}` filters matched the way
 * Argo CD's `settings.FilteredResource.Match` matches them (an empty list matches everything; groups and
 * clusters are globs, kinds are exact or `*`).
 */
import { parse as parseYaml } from "yaml";

import { Json, at, obj, str, strings } from "./values";

/** A (group, kind) pair; the core group is "". */
export interface GroupKind {
    readonly group: string;
    readonly kind: string;
}

export function showGroupKind(gk: GroupKind): string {
    return gk.group === "" ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** What Argo CD must never manage: Velero restores them, and Argo CD would prune or overwrite them. */
export const REQUIRED_EXCLUSIONS: readonly GroupKind[] = [
    { group: "", kind: "PersistentVolume" },
    { group: "", kind: "PersistentVolumeClaim" },
    { group: "", kind: "Secret" },
    // Backups and Restores inherit Argo CD's tracking label from what they contain; Argo CD then prunes them
    // (velero #2975, DESIGN §5).
    { group: "velero.io", kind: "Backup" },
    { group: "velero.io", kind: "Restore" },
];

/**
 * The exclusions the argo-cd chart 10.1.1 sets by default (`configs.cm."resource.exclusions"` in its
 * values.yaml). Setting the key replaces the whole list, so each of these must be carried over.
 */
export const CHART_DEFAULT_EXCLUSIONS: readonly GroupKind[] = [
    ...["", "discovery.k8s.io"].flatMap((group) => ["Endpoints", "EndpointSlice"].map((kind) => ({ group, kind }))),
    { group: "coordination.k8s.io", kind: "Lease" },
    ...["authentication.k8s.io", "authorization.k8s.io"].flatMap((group) =>
        [
            "SelfSubjectReview",
            "TokenReview",
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ].map((kind) => ({ group, kind })),
    ),
    { group: "certificates.k8s.io", kind: "CertificateSigningRequest" },
    { group: "cert-manager.io", kind: "CertificateRequest" },
    ...["CiliumIdentity", "CiliumEndpoint", "CiliumEndpointSlice"].map((kind) => ({ group: "cilium.io", kind })),
    ...["kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io"].flatMap((group) =>
        [
            "PolicyReport",
            "ClusterPolicyReport",
            "EphemeralReport",
            "ClusterEphemeralReport",
            "AdmissionReport",
            "ClusterAdmissionReport",
            "BackgroundScanReport",
            "ClusterBackgroundScanReport",
            "UpdateRequest",
        ].map((kind) => ({ group, kind })),
    ),
];

/** The cluster Argo CD runs in and manages, as Argo CD names it. */
export const IN_CLUSTER = "https://kubernetes.default.svc";

/** gobwas/glob as Argo CD uses it, for patterns without separators: `*`, `?`, `[...]` and `{a,b}`. */
export function globMatch(pattern: string, text: string): boolean {
    let source = "";
    let depth = 0;
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === "*") {
            source += ".*";
        } else if (c === "?") {
            source += ".";
        } else if (c === "{") {
            depth++;
            source += "(?:";
        } else if (c === "}" && depth > 0) {
            depth--;
            source += ")";
        } else if (c === "," && depth > 0) {
            source += "|";
        } else if (c === "[") {
            const end = pattern.indexOf("]", i);
            source += end < 0 ? "\\[" : `[${pattern.substring(i + 1, end).replace(/^!/, "^")}]`;
            i = end < 0 ? i : end;
        } else {
            source += c.replace(/[.+^$(){}|\\]/g, "\\$&");
        }
    }
    try {
        return new RegExp(`^${source}$`).test(text);
    } catch {
        return false;
    }
}

/** One parsed exclusion filter. */
export interface Exclusion {
    readonly apiGroups: readonly string[];
    readonly kinds: readonly string[];
    readonly clusters: readonly string[];
    /** The filter also selects by labels, annotations or a selector, so it excludes only some objects. */
    readonly partial: boolean;
}

/** Parses the `resource.exclusions` YAML; throws with the parser's message when it is not a list of filters. */
export function parseExclusions(yaml: string): Exclusion[] {
    const parsed: unknown = parseYaml(yaml);
    if (parsed === null || parsed === undefined) {
        return [];
    }
    if (!Array.isArray(parsed)) {
        throw new Error("it is not a YAML list");
    }
    return parsed.map((item: unknown) => {
        const e: Json = obj(item) ?? {};
        return {
            apiGroups: strings(e.apiGroups),
            kinds: strings(e.kinds),
            clusters: strings(e.clusters),
            partial: e.labels !== undefined || e.annotations !== undefined || e.selector !== undefined,
        };
    });
}

/** Whether the filters exclude every object of (group, kind) in Argo CD's own cluster. */
export function excludes(exclusions: readonly Exclusion[], gk: GroupKind): boolean {
    return exclusions.some(
        (e) =>
            !e.partial &&
            (e.apiGroups.length === 0 || e.apiGroups.some((g) => globMatch(g, gk.group))) &&
            (e.kinds.length === 0 || e.kinds.some((k) => k === "*" || k === gk.kind)) &&
            (e.clusters.length === 0 || e.clusters.some((c) => globMatch(c, IN_CLUSTER))),
    );
}

/** The `resource.exclusions` string of argo-cd chart values, or undefined when the values leave it unset. */
export function exclusionsYaml(values: Json): string | undefined {
    return str(at(values, "configs", "cm", "resource.exclusions"));
}

/** The finalizer that makes deleting an Application delete everything it deployed (and its variants). */
export function isCascadeFinalizer(finalizer: string): boolean {
    return (
        finalizer === "resources-finalizer.argocd.argoproj.io" ||
        finalizer.startsWith("resources-finalizer.argocd.argoproj.io/")
    );
}

/** The stack output listing the Applications allowed a first install (gitops-dr:newAppVolumes) while the switch is on. */
export const FIRST_INSTALL_APPS_OUTPUT = "argoCdFirstInstallApps";
/** The label of a seed Application, the one that creates a named app's claims and Secrets once. */
export const SEED_OF_LABEL = "gitops-dr.io/seed-of";
/** The same label as programs before 2026-12 wrote it; still recognised, so an older program is judged too. */
export const LEGACY_SEED_OF_LABEL = "gitops-dr/seed-of";
