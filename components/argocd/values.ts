/**
 * The argo-cd chart 10.1.1 values: pinned images, the CRDs kept on uninstall, and `argocd-cm` with the tracking
 * method and the resource filters that leave PVs, PVCs, Secrets and Velero's kinds to Velero (DESIGN §5).
 */
import { mergeValues } from "../helm-values";
import { ImagePin, mirrorImage } from "../mirrors";
import { ARGO_CD_IMAGE, DEX_IMAGE, REDIS_IMAGE } from "../versions";
import { ALL_BUT_SEED_CLUSTER, SEED_CLUSTER_SERVER } from "./names";

/** One entry of `resource.exclusions` or `resource.inclusions` (argo-cd `util/settings/filtered_resource.go`). */
export interface FilteredResource {
    readonly apiGroups?: readonly string[];
    readonly kinds?: readonly string[];
    readonly clusters?: readonly string[];
}

/**
 * The argo-cd chart 10.1.1 default `configs.cm."resource.exclusions"`, as data. Setting the value replaces the
 * chart's list, so every entry is carried over unchanged (a test compares it with the chart's values.yaml).
 */
export function chartDefaultExclusions(): FilteredResource[] {
    return [
        { apiGroups: ["", "discovery.k8s.io"], kinds: ["Endpoints", "EndpointSlice"] },
        { apiGroups: ["coordination.k8s.io"], kinds: ["Lease"] },
        {
            apiGroups: ["authentication.k8s.io", "authorization.k8s.io"],
            kinds: [
                "SelfSubjectReview",
                "TokenReview",
                "LocalSubjectAccessReview",
                "SelfSubjectAccessReview",
                "SelfSubjectRulesReview",
                "SubjectAccessReview",
            ],
        },
        { apiGroups: ["certificates.k8s.io"], kinds: ["CertificateSigningRequest"] },
        { apiGroups: ["cert-manager.io"], kinds: ["CertificateRequest"] },
        { apiGroups: ["cilium.io"], kinds: ["CiliumIdentity", "CiliumEndpoint", "CiliumEndpointSlice"] },
        {
            apiGroups: ["kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io"],
            kinds: [
                "PolicyReport",
                "ClusterPolicyReport",
                "EphemeralReport",
                "ClusterEphemeralReport",
                "AdmissionReport",
                "ClusterAdmissionReport",
                "BackgroundScanReport",
                "ClusterBackgroundScanReport",
                "UpdateRequest",
            ],
        },
    ];
}

/** The kinds Velero owns: never applied, watched or pruned by Argo CD. */
export function persistentDataExclusion(seeding: boolean): FilteredResource {
    return {
        apiGroups: [""],
        kinds: ["PersistentVolume", "PersistentVolumeClaim", "Secret"],
        ...(seeding ? { clusters: [...ALL_BUT_SEED_CLUSTER] } : {}),
    };
}

/**
 * Velero's own kinds. Backups created by a Schedule inherit the Schedule's labels, Argo CD's tracking label
 * among them, and Argo CD would prune them as extraneous (velero #2975).
 */
export function veleroExclusion(): FilteredResource {
    return { apiGroups: ["velero.io"], kinds: ["*"] };
}

interface CommentedEntry {
    readonly comment?: string;
    readonly entry: FilteredResource;
}

function exclusionEntries(seeding: boolean): CommentedEntry[] {
    const defaults = chartDefaultExclusions().map((entry, i) => ({
        comment: i === 0 ? "argo-cd chart 10.1.1 defaults, unchanged" : undefined,
        entry,
    }));
    return [
        ...defaults,
        {
            comment: seeding
                ? "gitops-dr: persistent data is Velero's, on every cluster but the seed cluster (HTTPS://, uppercase on purpose)"
                : "gitops-dr: persistent data is Velero's",
            entry: persistentDataExclusion(seeding),
        },
        { comment: "gitops-dr: Velero's kinds (velero #2975)", entry: veleroExclusion() },
    ];
}

/** The exclusion list as data: the chart's defaults, then the persistent data, then Velero's kinds. */
export function resourceExclusionList(seeding: boolean): FilteredResource[] {
    return exclusionEntries(seeding).map((e) => e.entry);
}

/** The inclusion list: only while seeding, only claims and Secrets, only on the seed cluster. */
export function resourceInclusionList(seeding: boolean): FilteredResource[] {
    return seeding
        ? [{ apiGroups: [""], kinds: ["PersistentVolumeClaim", "Secret"], clusters: [SEED_CLUSTER_SERVER] }]
        : [];
}

/** Writes filter entries as the YAML Argo CD reads (every scalar JSON-quoted, which is valid YAML). */
function filterYaml(entries: readonly CommentedEntry[]): string {
    const lines: string[] = [];
    for (const { comment, entry } of entries) {
        if (comment !== undefined) {
            lines.push(`### ${comment}`);
        }
        let first = true;
        for (const key of ["apiGroups", "kinds", "clusters"] as const) {
            const values = entry[key];
            if (values === undefined) {
                continue;
            }
            lines.push(`${first ? "- " : "  "}${key}:`);
            first = false;
            lines.push(...values.map((v) => `  - ${JSON.stringify(v)}`));
        }
        if (first) {
            lines.push("- {}");
        }
    }
    return `${lines.join("\n")}\n`;
}

/** `configs.cm."resource.exclusions"`: one YAML string, which replaces the chart's list. */
export function resourceExclusions(seeding: boolean): string {
    return filterYaml(exclusionEntries(seeding));
}

/** `configs.cm."resource.inclusions"`, or undefined when not seeding (no inclusion rule: everything else allowed). */
export function resourceInclusions(seeding: boolean): string | undefined {
    const list = resourceInclusionList(seeding);
    return list.length === 0 ? undefined : filterYaml(list.map((entry) => ({ entry })));
}

/** Everything the chart values depend on. */
export interface ArgoCdValuesInput {
    /** First-install seeding is on: scopes the persistent-data exclusion and adds the seed cluster's inclusions. */
    readonly seeding: boolean;
    /** Registry every image is pulled from (components/mirrors.ts). Defaults to none: public registries. */
    readonly imageRegistry?: string;
    /**
     * The user's values (`gitops-dr:argoCdValues`), already checked against the guarded paths
     * (components/config/user-values.ts), merged over these. Defaults to none.
     */
    readonly userValues?: Readonly<Record<string, unknown>>;
}

/**
 * Whether Dex runs: only when the user's values enable it (`dex.enabled`) or configure it
 * (`configs.cm["dex.config"]`). The chart deploys it by default (argo-cd 10.1.1 values `dex.enabled: true`), which
 * would run an SSO server with nothing to serve and one more image to mirror.
 */
export function dexEnabled(userValues: Readonly<Record<string, unknown>>): boolean {
    const dex = userValues.dex as { enabled?: unknown } | undefined;
    if (typeof dex?.enabled === "boolean") {
        return dex.enabled;
    }
    const cm = (userValues.configs as { cm?: Record<string, unknown> } | undefined)?.cm;
    return typeof cm?.["dex.config"] === "string" && cm["dex.config"] !== "";
}

/**
 * The argo-cd chart's `{ repository, tag }` image values. The chart has no digest value: it renders
 * `<repository>:<tag>` (templates `image:` lines), so a pinned digest rides in the tag as `<tag>@<digest>`.
 */
function chartImage(pin: ImagePin): { repository: string; tag: string } {
    return { repository: pin.repository, tag: pin.digest === undefined ? pin.tag : `${pin.tag}@${pin.digest}` };
}

/**
 * The argo-cd chart 10.1.1 values, the user's merged over them. Every key is one the chart reads; `configs.cm`
 * keys go to `argocd-cm` as they are.
 */
export function argoCdValues(input: ArgoCdValuesInput): Record<string, unknown> {
    const cm: Record<string, string> = {
        // Argo CD v3's default, pinned: restored objects keep their tracking annotations (velero #7848), and
        // annotation tracking lets Argo CD tell which Application owns an object (controller/state.go,
        // isSelfReferencedObj), so a seed Application never adopts another Application's objects.
        "application.resourceTrackingMethod": "annotation",
        "resource.exclusions": resourceExclusions(input.seeding),
    };
    const inclusions = resourceInclusions(input.seeding);
    if (inclusions !== undefined) {
        cm["resource.inclusions"] = inclusions;
    }
    const registry = input.imageRegistry;
    const userValues = input.userValues ?? {};
    const program = {
        // Every image the chart deploys with these values, pinned (components/mirrors.ts deployedImages). The
        // global image also serves Dex's init container and the Redis secret-init job (their own repository
        // and tag default to it); redis.exporter, redis-ha and server.extensions stay off.
        global: { image: chartImage(mirrorImage(ARGO_CD_IMAGE, registry)) },
        dex: { enabled: dexEnabled(userValues), image: chartImage(mirrorImage(DEX_IMAGE, registry)) },
        redis: { image: chartImage(mirrorImage(REDIS_IMAGE, registry)) },
        // The chart installs the Application and AppProject CRDs; keeping them on uninstall keeps every
        // Application (and so every workload) when the release is removed.
        crds: { install: true, keep: true },
        configs: { cm },
    };
    return mergeValues(program, userValues);
}

/** An Argo CD Application as plain data. */
