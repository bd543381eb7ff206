/**
 * First-install seeding: named new Applications may create their claims and Secrets once, from git.
 *
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

import { MANAGED_LABEL, gitopsDrKey, isPlainObject } from "../names";
import { ApplicationManifest, ApplicationSpec, SecretManifest } from "./manifests";
import {
    ARGO_API_VERSION,
    IN_CLUSTER_NAME,
    IN_CLUSTER_SERVER,
    SECRET_TYPE_LABEL,
    SEED_APP_PREFIX,
    SEED_CLUSTER_NAME,
    SEED_CLUSTER_SERVER,
    SEED_PROJECT,
    SEED_SERVICE_ACCOUNT,
} from "./names";

export interface LiveApplication {
    readonly name: string;
    readonly spec: unknown;
    readonly status?: unknown;
}

type Json = Record<string, unknown>;
const isObject = isPlainObject;

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
            labels: { "app.kubernetes.io/managed-by": "gitops-dr", [SEED_OF_LABEL]: name },
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
export const SEED_CLUSTER_LABEL = gitopsDrKey("seed");
/** Label of a seed Application: the Application it seeds. */
export const SEED_OF_LABEL = gitopsDrKey("seed-of");

export function seedClusterMetadata(namespace: string): SecretManifest["metadata"] {
    return {
        name: "gitops-dr-seed-cluster",
        namespace,
        labels: { [SECRET_TYPE_LABEL]: "cluster", [SEED_CLUSTER_LABEL]: "true", [MANAGED_LABEL]: "true" },
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

/**
 * The seed cluster, its identity, project and one seed Application per named app, as children of the ArgoCd
 * component (`child.parent`); returns the seed Applications' names.
 */
export function createSeeding(
    name: string,
    input: {
        readonly apps: readonly string[];
        readonly namespaceName: string;
        readonly namespace: k8s.core.v1.Namespace;
        /** The Argo CD release: the live Applications are read, and the seed objects created, after it. */
        readonly release: k8s.helm.v3.Release;
    },
    child: { parent: pulumi.Resource; provider: k8s.Provider },
): string[] {
    const { apps, namespaceName, namespace } = input;
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
            { ...child, id: `${namespaceName}/${app}`, dependsOn: [input.release] },
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
        { ...child, dependsOn: [input.release] },
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
                dependsOn: [input.release, project, cluster, ...bindings],
                customTimeouts: { create: "10m", update: "10m" },
            },
        );
        return seedApplicationName(app);
    });
}
