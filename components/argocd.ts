/**
 * Argo CD: the pinned Helm release that rebuilds everything except the persistent data from git, the resource
 * exclusions that leave PVs, PVCs and Secrets to Velero, the root Application (app of apps) that waits for the
 * restore in recover and drill, a private repository's credentials, and the first-install switch that lets
 * named new Applications create their claims and Secrets once.
 *
 * ## Why the first-install switch needs a second cluster registration
 *
 * `resource.exclusions` is global: an excluded kind is dropped from every Application's target state before
 * sync (argo-cd v3.4.4 `controller/state.go`, the `IsExcludedResource` loop that raises
 * `ExcludedResourceWarning`) and is not even watched (`gitops-engine/pkg/utils/kube/ctl.go`,
 * `filterAPIResources`). Nothing in Argo CD scopes a filter by Application. The only finer key is the
 * destination cluster: each exclusion or inclusion entry may list `clusters` globs
 * (`util/settings/filtered_resource.go`, `MatchCluster`), matched against the destination's server URL in
 * `state.go` and against the cluster's REST host in `ctl.go`.
 *
 * So while the switch is on, the program registers the same API server a second time under a server URL that
 * no real cluster uses, {@link SEED_CLUSTER_SERVER} (`HTTPS://kubernetes.default.svc`):
 * - The persistent-data exclusion gets `clusters: ["https://*", "http://*"]`. Argo CD's globs are
 *   case-sensitive (gobwas/glob), so they match every real cluster, including the in-cluster one under both
 *   names it is checked by (`https://kubernetes.default.svc` in `state.go`, `https://<service IP>:443`, the
 *   host of `rest.InClusterConfig()`, in `ctl.go`), and miss only the seed URL. Go's `url.Parse` lowercases the
 *   scheme, so the seed URL still reaches the API server over TLS.
 * - `resource.inclusions` lists only PersistentVolumeClaim and Secret for the seed URL. With an inclusion rule
 *   for a cluster, every other kind is excluded there (`util/settings/resources_filter.go`,
 *   `IsExcludedResource`): an Application aimed at the seed cluster can create claims and Secrets and nothing
 *   else.
 * - For each named Application the program creates a seed Application, `gitops-dr-seed-<name>`, that renders
 *   the named one's own sources from git (read from the live object) into the seed cluster, so claims and
 *   Secrets still come from git. It syncs automatically without self-heal or prune, and ignores Secret data
 *   and claim specs with `RespectIgnoreDifferences=true` (`controller/sync.go`, `normalizeTargetResources`):
 *   what exists is never rewritten, so a chart's random passwords are generated once.
 *   `Prune=false` and `Delete=false` are read from the Application's sync options (`controller/sync.go`
 *   `WithDefaultPruneOption`, `controller/appcontroller.go` `shouldBeDeleted`).
 * - The seed cluster authenticates as its own service account, allowed to touch Secrets and claims only, and
 *   only in the named Applications' namespaces (RoleBindings, and the cluster's `namespaces` field).
 *
 * Trade-offs: the seed URL is a deliberate oddity an operator must not "fix" (docs/argocd.md says so); Argo CD
 * keeps a second cache of the Secrets and claims in those namespaces while the switch is on; any Application
 * whose AppProject allows every destination could aim at the seed cluster while it exists, but only the seed
 * Applications do, and the switch is refused in recover and drill. Turning it off removes the seed
 * Applications, which delete nothing (no finalizer), and the seed cluster, whose token dies with its Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { ChartSource, Mode } from "./config";
import { ImagePin, mirrorImage, releaseChart } from "./mirrors";
import { ARGO_CD_CHART, ARGO_CD_IMAGE, DEX_IMAGE, REDIS_IMAGE } from "./versions";

export const ARGO_API_VERSION = "argoproj.io/v1alpha1";
/** The in-cluster destination (argo-cd `pkg/apis/application/v1alpha1/application_defaults.go`). */
export const IN_CLUSTER_SERVER = "https://kubernetes.default.svc";
/** The in-cluster destination's name. */
export const IN_CLUSTER_NAME = "in-cluster";
/**
 * The seed cluster: the same API server as {@link IN_CLUSTER_SERVER}, spelt with an uppercase scheme so that no
 * lowercase glob matches it. Argo CD compares server URLs as plain strings (`util/db/cluster.go` only trims a
 * trailing slash), and the name `kubernetes.default.svc` is always in the API server's certificate.
 */
export const SEED_CLUSTER_SERVER = "HTTPS://kubernetes.default.svc";
export const SEED_CLUSTER_NAME = "gitops-dr-seed";
/** The AppProject of the seed Applications. */
export const SEED_PROJECT = "gitops-dr-seed";
/** The service account the seed cluster authenticates as. */
export const SEED_SERVICE_ACCOUNT = "gitops-dr-seed";
/** Prefix of every seed Application's name. */
export const SEED_APP_PREFIX = "gitops-dr-seed-";
/** Cluster globs that match every cluster URL except {@link SEED_CLUSTER_SERVER}. */
export const ALL_BUT_SEED_CLUSTER: readonly string[] = ["https://*", "http://*"];
/** Annotation of the root Application that carries {@link ArgoCdArgs.syncGate}. */
export const SYNC_GATE_ANNOTATION = "gitops-dr/sync-gate";
/** Argo CD's cascading-delete finalizer, never set by this program. */
export const CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io";
/** Label that makes Argo CD read a Secret as a repository or a cluster (argo-cd `common/common.go`). */
export const SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";

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
}

/**
 * The argo-cd chart's `{ repository, tag }` image values. The chart has no digest value: it renders
 * `<repository>:<tag>` (templates `image:` lines), so a pinned digest rides in the tag as `<tag>@<digest>`.
 */
function chartImage(pin: ImagePin): { repository: string; tag: string } {
    return { repository: pin.repository, tag: pin.digest === undefined ? pin.tag : `${pin.tag}@${pin.digest}` };
}

/** The argo-cd chart 10.1.1 values. Every key is one the chart reads; `configs.cm` keys go to `argocd-cm` as they are. */
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
    return {
        // Every image the chart deploys with these values, pinned (components/mirrors.ts deployedImages). The
        // global image also serves Dex's init container and the Redis secret-init job (their own repository
        // and tag default to it); redis.exporter, redis-ha and server.extensions stay off.
        global: { image: chartImage(mirrorImage(ARGO_CD_IMAGE, registry)) },
        dex: { image: chartImage(mirrorImage(DEX_IMAGE, registry)) },
        redis: { image: chartImage(mirrorImage(REDIS_IMAGE, registry)) },
        // The chart installs the Application and AppProject CRDs; keeping them on uninstall keeps every
        // Application (and so every workload) when the release is removed.
        crds: { install: true, keep: true },
        configs: { cm },
    };
}

/** An Argo CD Application as plain data. */
export interface ApplicationManifest {
    readonly apiVersion: typeof ARGO_API_VERSION;
    readonly kind: "Application";
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly annotations?: Readonly<Record<string, string>>;
        readonly labels?: Readonly<Record<string, string>>;
    };
    readonly spec: ApplicationSpec;
}

/** The Application spec fields this program sets (argo-cd CRD `applications.argoproj.io`). */
export interface ApplicationSpec {
    readonly project: string;
    readonly source?: Readonly<Record<string, unknown>>;
    readonly sources?: readonly Readonly<Record<string, unknown>>[];
    readonly destination: { readonly server?: string; readonly name?: string; readonly namespace?: string };
    readonly syncPolicy?: {
        readonly automated?: {
            readonly enabled: boolean;
            readonly prune: boolean;
            readonly selfHeal: boolean;
            readonly allowEmpty: boolean;
        };
        readonly syncOptions?: readonly string[];
        readonly retry?: {
            readonly limit: number;
            readonly backoff: { readonly duration: string; readonly factor: number; readonly maxDuration: string };
        };
    };
    readonly ignoreDifferences?: readonly {
        readonly group: string;
        readonly kind: string;
        readonly jsonPointers: readonly string[];
    }[];
}

export interface RootApplicationInput {
    readonly name: string;
    /** Argo CD's namespace: the root app lives there, and so do the Applications it creates. */
    readonly argoCdNamespace: string;
    readonly project: string;
    readonly repoUrl: string;
    readonly path: string;
    readonly revision: string;
    /** Value of the sync-gate annotation, when the root app must wait for something (the restore). */
    readonly syncGate?: string;
}

/**
 * The root Application (app of apps).
 * - No `resources-finalizer.argocd.argoproj.io`: deleting or replacing it deletes nothing it manages; and
 *   `Delete=false` keeps the child Applications even if someone deletes it with cascade from the UI or CLI
 *   (controller/appcontroller.go, shouldBeDeleted).
 * - Automated sync with self-heal, so child Application specs stay as git says.
 * - No automated prune: an Application removed from git, or a wrong path or revision, must not make Argo CD
 *   delete child Applications on its own (their own finalizers would then delete workloads). Removing an app
 *   is a manual prune. `allowEmpty: false` also refuses to sync an empty target.
 * - `ApplyOutOfSyncOnly=true`: a change to one child re-applies that child only.
 * - Retries: the first sync of a fresh or restored cluster may run while Argo CD's repo server still starts.
 * Its health does not include the child apps' health: check those (docs/argocd.md, Validate).
 */
export function rootApplication(input: RootApplicationInput): ApplicationManifest {
    return {
        apiVersion: ARGO_API_VERSION,
        kind: "Application",
        metadata: {
            name: input.name,
            namespace: input.argoCdNamespace,
            ...(input.syncGate === undefined ? {} : { annotations: { [SYNC_GATE_ANNOTATION]: input.syncGate } }),
        },
        spec: {
            project: input.project,
            source: { repoURL: input.repoUrl, path: input.path, targetRevision: input.revision },
            destination: { server: IN_CLUSTER_SERVER, namespace: input.argoCdNamespace },
            syncPolicy: {
                automated: { enabled: true, prune: false, selfHeal: true, allowEmpty: false },
                syncOptions: ["Delete=false", "ApplyOutOfSyncOnly=true"],
                retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
            },
        },
    };
}

/** Credentials of a private git repository: HTTPS basic auth (a token as password) or an SSH key. */
export type RepositoryCredentials<T = string> =
    { readonly username: T; readonly password: T } | { readonly sshPrivateKey: T };

/** A Secret as plain data. */
export interface SecretManifest<T = string> {
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly type: string;
    readonly stringData: Readonly<Record<string, T>>;
}

/** Whether a repository URL is an SSH one (`git@host:org/repo` or `ssh://`). */
export function isSshUrl(url: string): boolean {
    return url.startsWith("ssh://") || /^[A-Za-z0-9._-]+@[^:/]+:/.test(url);
}

/**
 * The repository Secret Argo CD reads: labelled `argocd.argoproj.io/secret-type: repository` in Argo CD's
 * namespace, with `type`, `url` and the credentials (argo-cd docs, declarative setup, Repositories). Argo CD
 * reads it from its own namespace, so the Secret exclusion does not hide it.
 */
export function repositorySecret<T>(input: {
    readonly name: string;
    readonly namespace: string;
    readonly url: string;
    readonly credentials: RepositoryCredentials<T>;
}): SecretManifest<T | string> {
    const credentials = input.credentials;
    const auth: Record<string, T> =
        "sshPrivateKey" in credentials
            ? { sshPrivateKey: credentials.sshPrivateKey }
            : { username: credentials.username, password: credentials.password };
    return {
        metadata: { name: input.name, namespace: input.namespace, labels: { [SECRET_TYPE_LABEL]: "repository" } },
        type: "Opaque",
        stringData: { type: "git", url: input.url, ...auth },
    };
}

/** An Application as read from the cluster, unchecked. */
export interface LiveApplication {
    readonly name: string;
    readonly spec: unknown;
    readonly status?: unknown;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a source renders with Helm, from its fields or the type Argo CD detected (`status.sourceType(s)`). */
function isHelmSource(source: Json, detected: unknown, app: string): boolean {
    if (typeof source.chart === "string") {
        return true;
    }
    if (source.ref !== undefined && source.path === undefined) {
        // A multi-source `ref` entry only provides value files.
        return false;
    }
    if (typeof detected === "string" && detected !== "") {
        return detected === "Helm";
    }
    if (source.helm !== undefined) {
        return true;
    }
    if (source.kustomize !== undefined || source.directory !== undefined || source.plugin !== undefined) {
        return false;
    }
    throw new Error(
        `Application ${app}: Argo CD has not recorded its source type yet (status.sourceType), so the seed cannot know whether to pin the Helm release name. ` +
            `Wait until \`argocd app get ${app}\` shows it reconciled, then run pulumi up again.`,
    );
}

/** The seed Application's name for a named Application. */
export function seedApplicationName(app: string): string {
    return `${SEED_APP_PREFIX}${app}`;
}

/**
 * The seed Application of a named Application: its sources, rendered into the seed cluster, where only claims
 * and Secrets are applied. Helm sources keep the named app's release name (Argo CD uses the Application's
 * name by default, reposerver/repository/repository.go helmTemplate), so the claims and Secrets get the names
 * the named app's workloads refer to. Throws when the named app cannot be seeded.
 */
export function seedApplication(input: {
    readonly app: LiveApplication;
    readonly argoCdNamespace: string;
}): ApplicationManifest {
    const { name } = input.app;
    const spec = input.app.spec;
    const status = isObject(input.app.status) ? input.app.status : {};
    if (!isObject(spec)) {
        throw new Error(
            `Application ${name} has no spec: is it an Argo CD Application in namespace ${input.argoCdNamespace}?`,
        );
    }
    const destination = isObject(spec.destination) ? spec.destination : {};
    const inCluster =
        destination.server === IN_CLUSTER_SERVER ||
        (destination.server === undefined && destination.name === IN_CLUSTER_NAME);
    if (!inCluster) {
        throw new Error(
            `Application ${name} deploys to ${String(destination.server ?? destination.name)}, not to the in-cluster destination (${IN_CLUSTER_SERVER}): ` +
                "only in-cluster Applications can be seeded. Remove it from firstInstallApps.",
        );
    }
    const namespace = destination.namespace;
    if (typeof namespace !== "string" || namespace === "") {
        throw new Error(
            `Application ${name} has no spec.destination.namespace: the seed needs one namespace to grant and watch. Set it in git, or remove the app from firstInstallApps.`,
        );
    }

    const pinReleaseName = (source: Json, detected: unknown): Json => {
        const copy = structuredClone(source);
        if (isHelmSource(copy, detected, name)) {
            const helm = isObject(copy.helm) ? copy.helm : {};
            copy.helm = {
                ...helm,
                releaseName: typeof helm.releaseName === "string" && helm.releaseName !== "" ? helm.releaseName : name,
            };
        }
        return copy;
    };
    let sources: Pick<ApplicationSpec, "source" | "sources">;
    if (Array.isArray(spec.sources) && spec.sources.length > 0) {
        const detected: unknown[] = Array.isArray(status.sourceTypes) ? status.sourceTypes : [];
        sources = { sources: spec.sources.map((s, i) => pinReleaseName(isObject(s) ? s : {}, detected[i])) };
    } else if (isObject(spec.source)) {
        sources = { source: pinReleaseName(spec.source, status.sourceType) };
    } else {
        throw new Error(
            `Application ${name} has neither spec.source nor spec.sources (a source hydrator is not supported): remove it from firstInstallApps.`,
        );
    }

    return {
        apiVersion: ARGO_API_VERSION,
        kind: "Application",
        metadata: {
            name: seedApplicationName(name),
            namespace: input.argoCdNamespace,
            labels: { "app.kubernetes.io/managed-by": "gitops-dr", "gitops-dr/seed-of": name },
            annotations: {
                // pulumi up waits until every claim and Secret of the app exists (Synced ignores Secret data and
                // claim specs), and fails after the timeout otherwise.
                "pulumi.com/waitFor": "jsonpath={.status.sync.status}=Synced",
            },
        },
        spec: {
            project: SEED_PROJECT,
            ...sources,
            destination: { server: SEED_CLUSTER_SERVER, namespace },
            syncPolicy: {
                // Sync on creation and on new revisions, never re-apply the same revision over live changes.
                automated: { enabled: true, prune: false, selfHeal: false, allowEmpty: false },
                syncOptions: [
                    "RespectIgnoreDifferences=true",
                    "ApplyOutOfSyncOnly=true",
                    "Prune=false",
                    "Delete=false",
                ],
                retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
            },
            // Create once: a Secret's data and a claim's spec are what they were when first created.
            ignoreDifferences: [
                { group: "", kind: "Secret", jsonPointers: ["/data", "/stringData"] },
                { group: "", kind: "PersistentVolumeClaim", jsonPointers: ["/spec"] },
            ],
        },
    };
}

/** The namespaces the seed Applications deploy to, each once. */
export function seedNamespaces(seeds: readonly ApplicationManifest[]): string[] {
    return [...new Set(seeds.map((s) => s.spec.destination.namespace).filter((n): n is string => n !== undefined))];
}

/** The AppProject of the seed Applications: their repositories, the seed cluster in their namespaces, claims and Secrets only. */
export function seedProject(input: {
    readonly argoCdNamespace: string;
    readonly seeds: readonly ApplicationManifest[];
}): {
    apiVersion: typeof ARGO_API_VERSION;
    kind: "AppProject";
    metadata: { name: string; namespace: string };
    spec: Json;
} {
    const repos = new Set<string>();
    for (const seed of input.seeds) {
        for (const source of seed.spec.sources ?? (seed.spec.source === undefined ? [] : [seed.spec.source])) {
            if (typeof source.repoURL === "string") {
                repos.add(source.repoURL);
            }
        }
    }
    return {
        apiVersion: ARGO_API_VERSION,
        kind: "AppProject",
        metadata: { name: SEED_PROJECT, namespace: input.argoCdNamespace },
        spec: {
            description:
                "gitops-dr first-install seeding: creates the named apps' claims and Secrets once. Exists only while firstInstallApps is set.",
            sourceRepos: [...repos].sort(),
            destinations: seedNamespaces(input.seeds).map((namespace) => ({ server: SEED_CLUSTER_SERVER, namespace })),
            // No cluster-scoped kinds; of the namespaced ones, only what the seed cluster includes anyway.
            clusterResourceWhitelist: [],
            namespaceResourceWhitelist: [
                { group: "", kind: "PersistentVolumeClaim" },
                { group: "", kind: "Secret" },
            ],
        },
    };
}

/** RBAC rules of the seed identity: claims and Secrets, nothing deleted. */
export function seedRules(): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
    return [
        {
            apiGroups: [""],
            resources: ["persistentvolumeclaims", "secrets"],
            verbs: ["get", "list", "watch", "create", "update", "patch"],
        },
    ];
}

/** Metadata of the seed cluster's Secret: the label is what makes Argo CD read it as a cluster. */
/**
 * Label on the seed cluster's Secret. An ApplicationSet `clusters` generator matches every cluster Secret unless
 * its selector says otherwise (argo-cd `applicationset/generators/cluster.go`, `getSecretsByClusterName`), so
 * repositories with such generators must exclude it (docs/argocd.md, "Trade-offs").
 */
export const SEED_CLUSTER_LABEL = "gitops-dr.io/seed";

export function seedClusterMetadata(namespace: string): SecretManifest["metadata"] {
    return {
        name: "gitops-dr-seed-cluster",
        namespace,
        labels: { [SECRET_TYPE_LABEL]: "cluster", [SEED_CLUSTER_LABEL]: "true" },
    };
}

/**
 * The cluster Secret registering the seed cluster (argo-cd `util/db/cluster.go`, SecretToCluster): name,
 * server, the namespaces it may touch, and a bearer token with the cluster CA. A server other than
 * `https://kubernetes.default.svc` is never treated as in-cluster (`Cluster.RawRestConfig`), so it needs them.
 */
export function seedClusterSecret(input: {
    readonly namespace: string;
    /** The seed service account's token, decoded. */
    readonly token: string;
    /** The cluster CA, base64 as the token Secret's `ca.crt` holds it (JSON `[]byte` is base64 too). */
    readonly caData: string;
    readonly namespaces: readonly string[];
}): SecretManifest {
    return {
        metadata: seedClusterMetadata(input.namespace),
        type: "Opaque",
        stringData: {
            name: SEED_CLUSTER_NAME,
            server: SEED_CLUSTER_SERVER,
            namespaces: input.namespaces.join(","),
            config: JSON.stringify({
                bearerToken: input.token,
                tlsClientConfig: { insecure: false, caData: input.caData },
            }),
        },
    };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isDnsLabel = (s: string) => s.length <= 63 && DNS_LABEL.test(s);
const isDnsSubdomain = (s: string) => s.length <= 253 && DNS_SUBDOMAIN.test(s);

export interface ArgoCdArgs {
    /** The stack's mode: `syncGate` is required and `firstInstallApps` refused in recover and drill. */
    mode: Mode;
    /** Helm release name. Defaults to `argocd` (with the chart's `nameOverride: argocd`, objects are named `argocd-*`). */
    releaseName?: string;
    /** Namespace Argo CD runs in, created by this component; Velero must exclude it from backups. Defaults to `argocd`. */
    namespace?: string;
    /** Git repository of the root Application, e.g. `https://github.com/acme/gitops.git` or `git@github.com:acme/gitops.git`. Required. */
    repoUrl: string;
    /** Directory in the repository holding the child Applications. Required (`.` for the repository root). */
    path: string;
    /** Branch, tag or commit the root Application follows. Defaults to `HEAD`. */
    revision?: string;
    /** Name of the root Application. Defaults to `root`. */
    rootAppName?: string;
    /** AppProject of the root Application. Defaults to `default` (Argo CD creates it). */
    project?: string;
    /**
     * Credentials of a private `repoUrl`, as Pulumi secrets: `{ username, password }` for HTTPS (a token as
     * password) or `{ sshPrivateKey }` for SSH. They become a repository Secret in Argo CD's namespace.
     * Defaults to none (a public repository).
     */
    repoCredentials?: RepositoryCredentials<pulumi.Input<string>>;
    /**
     * A value the root Application waits for: it is written to the `gitops-dr/sync-gate` annotation, so the
     * root app is only created once it resolves (for example the restore's name, resolved after the restore
     * succeeded). Required in recover and drill; defaults to none in protect.
     */
    syncGate?: pulumi.Input<string>;
    /**
     * First-install switch: names of Applications (in Argo CD's namespace, deployed in-cluster) whose claims
     * and Secrets Argo CD may create once, from git. Only in protect mode; set it after the apps appear in
     * Argo CD, remove it once their claims and Secrets exist (docs/argocd.md). Defaults to none.
     */
    firstInstallApps?: readonly string[];
    /** Where the pinned argo-cd chart comes from. Defaults to its public repository. */
    chartSource?: ChartSource;
    /** Registry every image is pulled from (components/mirrors.ts). Defaults to none: public registries. */
    imageRegistry?: string;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** Every problem with the arguments, each naming the property, the bad value and the fix. */
export function argoCdArgsProblems(args: Omit<ArgoCdArgs, "provider">): string[] {
    const problems: string[] = [];
    const namespace = args.namespace ?? "argocd";
    const releaseName = args.releaseName ?? "argocd";
    const rootAppName = args.rootAppName ?? "root";
    const apps = args.firstInstallApps ?? [];
    if (!isDnsLabel(namespace)) {
        problems.push(
            `namespace "${namespace}" is not a valid namespace name: use lowercase letters, digits and '-', at most 63 characters.`,
        );
    }
    if (releaseName.length > 53 || !isDnsLabel(releaseName)) {
        problems.push(
            `releaseName "${releaseName}" is not a valid Helm release name: use lowercase letters, digits and '-', at most 53 characters.`,
        );
    }
    if (!isDnsSubdomain(rootAppName)) {
        problems.push(
            `rootAppName "${rootAppName}" is not a valid Kubernetes name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit.`,
        );
    }
    if (args.repoUrl.trim() === "") {
        problems.push(
            "repoUrl is empty: set the git repository of the root Application, e.g. https://github.com/acme/gitops.git.",
        );
    }
    if (args.path.trim() === "" || args.path.startsWith("/")) {
        problems.push(
            `path "${args.path}" must be a directory relative to the repository root, e.g. "apps", or "." for the root itself.`,
        );
    }
    if (args.revision !== undefined && args.revision.trim() === "") {
        problems.push("revision is empty: set a branch, tag or commit, or leave it unset to follow HEAD.");
    }
    if (args.project !== undefined && !isDnsSubdomain(args.project)) {
        problems.push(`project "${args.project}" is not a valid AppProject name.`);
    }
    const credentials = args.repoCredentials;
    if (credentials !== undefined && args.repoUrl.trim() !== "") {
        const ssh = isSshUrl(args.repoUrl);
        if ("sshPrivateKey" in credentials && !ssh) {
            problems.push(
                `repoCredentials has an SSH key but repoUrl "${args.repoUrl}" is not an SSH URL: use git@host:org/repo.git, or a username and password for HTTPS.`,
            );
        }
        if (!("sshPrivateKey" in credentials) && ssh) {
            problems.push(
                `repoCredentials has a username and password but repoUrl "${args.repoUrl}" is an SSH URL: use an https:// URL, or an SSH key.`,
            );
        }
    }
    if (args.mode !== "protect") {
        if (apps.length > 0) {
            problems.push(
                `firstInstallApps (${apps.join(", ")}) is refused in ${args.mode} mode: claims and Secrets come from the backup, and creating them from git ` +
                    "would give the apps new, empty volumes and new passwords. Remove firstInstallApps.",
            );
        }
        if (args.syncGate === undefined) {
            problems.push(
                `syncGate is required in ${args.mode} mode: the root Application must not sync before the restore has completed. Pass the restore's completion as syncGate.`,
            );
        }
    }
    const seen = new Set<string>();
    for (const app of apps) {
        if (!isDnsSubdomain(app) || seedApplicationName(app).length > 253) {
            problems.push(`firstInstallApps entry "${app}" is not a valid Application name.`);
        } else if (seen.has(app)) {
            problems.push(`firstInstallApps names "${app}" twice: list each Application once.`);
        } else if (app === rootAppName) {
            problems.push(
                `firstInstallApps names the root Application "${app}": name the new apps it creates instead.`,
            );
        }
        seen.add(app);
    }
    return problems;
}

/** Argo CD on one cluster, with its root Application and, while switched on, first-install seeding. */
export class ArgoCd extends pulumi.ComponentResource {
    /** The Helm release; the root Application waits for it. */
    public readonly release: k8s.helm.v3.Release;
    /** The root Application. */
    public readonly rootApplication: k8s.apiextensions.CustomResource;
    public readonly releaseName: string;
    public readonly namespace: pulumi.Output<string>;
    public readonly rootAppName: string;
    /** Applications being seeded (first-install switch); empty when the switch is off. */
    public readonly firstInstallApps: string[];
    /** Names of the seed Applications, one per entry of {@link firstInstallApps}. */
    public readonly seedApplicationNames: string[];

    constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:argocd:ArgoCd", name, {}, { ...opts, providers: [args.provider] });
        const problems = argoCdArgsProblems(args);
        if (problems.length > 0) {
            throw new Error(`ArgoCd ${name}: ${problems.length} invalid argument(s):\n- ${problems.join("\n- ")}`);
        }
        const releaseName = args.releaseName ?? "argocd";
        const namespaceName = args.namespace ?? "argocd";
        const rootAppName = args.rootAppName ?? "root";
        const apps = [...(args.firstInstallApps ?? [])];
        const seeding = apps.length > 0;
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: namespaceName } }, child);

        const rootDependencies: pulumi.Resource[] = [];
        const credentials = args.repoCredentials;
        if (credentials !== undefined) {
            const manifest = repositorySecret({
                name: `${rootAppName}-repository`,
                namespace: namespaceName,
                url: args.repoUrl,
                credentials:
                    "sshPrivateKey" in credentials
                        ? { sshPrivateKey: pulumi.secret(credentials.sshPrivateKey) }
                        : {
                              username: pulumi.secret(credentials.username),
                              password: pulumi.secret(credentials.password),
                          },
            });
            rootDependencies.push(
                new k8s.core.v1.Secret(
                    `${name}-repository`,
                    {
                        metadata: manifest.metadata,
                        type: manifest.type,
                        stringData: manifest.stringData,
                    },
                    { ...child, dependsOn: [namespace] },
                ),
            );
        }

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: releaseName,
                namespace: namespace.metadata.name,
                createNamespace: false,
                ...releaseChart(ARGO_CD_CHART, args.chartSource),
                values: argoCdValues({ seeding, imageRegistry: args.imageRegistry }),
                // Wait for every Deployment and the chart's hook jobs (the redis secret init job): the root
                // Application needs the CRDs and a running controller.
                skipAwait: false,
                waitForJobs: true,
                timeout: 900,
                // Values are exactly ours on every upgrade, so turning seeding off removes resource.inclusions.
                resetValues: true,
                // Never let Helm roll back or uninstall on failure: it would delete what is already running.
                atomic: false,
                cleanupOnFail: false,
                maxHistory: 10,
            },
            { ...child, dependsOn: [namespace], customTimeouts: { create: "20m", update: "20m" } },
        );
        rootDependencies.push(this.release);

        this.seedApplicationNames = seeding ? this.seed(name, apps, namespaceName, namespace, child) : [];

        const root = pulumi.output(args.syncGate).apply((syncGate) =>
            rootApplication({
                name: rootAppName,
                argoCdNamespace: namespaceName,
                project: args.project ?? "default",
                repoUrl: args.repoUrl,
                path: args.path,
                revision: args.revision ?? "HEAD",
                syncGate,
            }),
        );
        this.rootApplication = new k8s.apiextensions.CustomResource(
            `${name}-root-app`,
            {
                apiVersion: ARGO_API_VERSION,
                kind: "Application",
                // metadata carries the gate, so the root app is registered only once the gate resolves, and its
                // inputs depend on whatever produced the gate (not only an ordering hint).
                metadata: root.metadata,
                spec: root.spec,
            },
            { ...child, dependsOn: rootDependencies },
        );

        if (seeding) {
            void pulumi.log.warn(
                `First-install seeding is ON for ${apps.join(", ")}: Argo CD creates these apps' claims and Secrets once, from git. ` +
                    "Remove firstInstallApps once they exist (docs/argocd.md).",
                this,
            );
        }

        this.releaseName = releaseName;
        this.namespace = namespace.metadata.name;
        this.rootAppName = rootAppName;
        this.firstInstallApps = apps;
        this.registerOutputs({
            releaseName: this.releaseName,
            namespace: this.namespace,
            rootAppName: this.rootAppName,
            firstInstallApps: this.firstInstallApps,
            seedApplicationNames: this.seedApplicationNames,
        });
    }

    /** The seed cluster, its identity, project and one seed Application per named app; returns their names. */
    private seed(
        name: string,
        apps: readonly string[],
        namespaceName: string,
        namespace: k8s.core.v1.Namespace,
        child: { parent: pulumi.Resource; provider: k8s.Provider },
    ): string[] {
        const seeds = apps.map((app) => {
            // With an id this constructor reads the live object. Only the keys given become outputs
            // (pulumi-kubernetes #1860, #3510), hence spec and status listed as undefined.
            const live = new k8s.apiextensions.CustomResource(
                `${name}-live-${app}`,
                {
                    apiVersion: ARGO_API_VERSION,
                    kind: "Application",
                    metadata: undefined,
                    spec: undefined,
                    status: undefined,
                },
                { ...child, id: `${namespaceName}/${app}`, dependsOn: [this.release] },
            );
            const fields = live as unknown as Record<"spec" | "status", pulumi.Output<unknown>>;
            return pulumi
                .all([fields.spec, fields.status])
                .apply(([spec, status]) =>
                    seedApplication({ app: { name: app, spec, status }, argoCdNamespace: namespaceName }),
                );
        });
        const allSeeds = pulumi.all(seeds);

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-seed-sa`,
            {
                metadata: { name: SEED_SERVICE_ACCOUNT, namespace: namespaceName },
            },
            { ...child, dependsOn: [namespace] },
        );
        const role = new k8s.rbac.v1.ClusterRole(`${name}-seed-role`, { rules: seedRules() }, child);
        const bindings = apps.map(
            (app, i) =>
                new k8s.rbac.v1.RoleBinding(
                    `${name}-seed-${app}`,
                    {
                        // A RoleBinding to the ClusterRole grants it in this namespace only.
                        metadata: { namespace: seeds[i].apply((s) => s.spec.destination.namespace!) },
                        roleRef: {
                            apiGroup: "rbac.authorization.k8s.io",
                            kind: "ClusterRole",
                            name: role.metadata.name,
                        },
                        subjects: [{ kind: "ServiceAccount", name: SEED_SERVICE_ACCOUNT, namespace: namespaceName }],
                    },
                    child,
                ),
        );
        // A long-lived token Secret: Kubernetes fills in token and ca.crt, and @pulumi/kubernetes waits until it
        // has (pulumi-kubernetes #2048). Deleting the Secret invalidates the token.
        const token = new k8s.core.v1.Secret(
            `${name}-seed-token`,
            {
                metadata: {
                    name: "gitops-dr-seed-token",
                    namespace: namespaceName,
                    annotations: { "kubernetes.io/service-account.name": SEED_SERVICE_ACCOUNT },
                },
                type: "kubernetes.io/service-account-token",
            },
            { ...child, dependsOn: [serviceAccount], additionalSecretOutputs: ["data"] },
        );
        const clusterData = pulumi.all([token.data, allSeeds]).apply(([data, all]) => {
            const encoded = data?.token;
            const caData = data?.["ca.crt"];
            if (encoded === undefined || caData === undefined) {
                throw new Error(
                    `ArgoCd ${name}: the seed token Secret has no token or ca.crt: Kubernetes did not populate it.`,
                );
            }
            return seedClusterSecret({
                namespace: namespaceName,
                token: Buffer.from(encoded, "base64").toString("utf8"),
                caData,
                namespaces: seedNamespaces(all),
            }).stringData;
        });
        // The metadata is built apart from the data so that only the data is a secret.
        const cluster = new k8s.core.v1.Secret(
            `${name}-seed-cluster`,
            {
                metadata: seedClusterMetadata(namespaceName),
                type: "Opaque",
                stringData: pulumi.secret(clusterData),
            },
            { ...child, dependsOn: [namespace, ...bindings] },
        );

        const projectManifest = allSeeds.apply((all) => seedProject({ argoCdNamespace: namespaceName, seeds: all }));
        const project = new k8s.apiextensions.CustomResource(
            `${name}-seed-project`,
            {
                apiVersion: ARGO_API_VERSION,
                kind: "AppProject",
                metadata: { name: SEED_PROJECT, namespace: namespaceName },
                spec: projectManifest.spec,
            },
            { ...child, dependsOn: [this.release] },
        );

        return apps.map((app, i) => {
            const seed = seeds[i];
            new k8s.apiextensions.CustomResource(
                `${name}-seed-app-${app}`,
                {
                    apiVersion: ARGO_API_VERSION,
                    kind: "Application",
                    metadata: seed.metadata,
                    spec: seed.spec,
                },
                {
                    ...child,
                    dependsOn: [this.release, project, cluster, ...bindings],
                    customTimeouts: { create: "10m", update: "10m" },
                },
            );
            return seedApplicationName(app);
        });
    }
}
