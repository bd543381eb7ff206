/**
 * What the simulated cluster holds before a run, and what the source cluster had backed up: by default a healthy
 * cluster and one Completed daily backup of a typical source (two apps with a claim and a Secret each, Helm's
 * release Secrets, a ServiceAccount token, and what kube-system, Velero's and Argo CD's namespaces hold, which the
 * schedule leaves out). Tests change any of it to walk the paths a real recovery takes.
 */
import { credentialsScheduleSpec } from "../../components/velero/credentials";
import { scheduleSpec } from "../../components/velero/schedule-spec";
import type { KubeObject } from "./store";
import { matchesExpressions } from "./store";
import { RestoreBehaviour, SimulatedBackup } from "./velero";

/** A run's cluster: its objects before the run, the source's backups in the bucket, and how a restore ends. */
export interface ClusterScenario {
    /** Objects in the target cluster before the run (StorageClasses, claims an earlier restore left...). */
    readonly objects?: readonly KubeObject[];
    /**
     * The data backups in the bucket, synced once the source location is Available. Defaults to one Completed
     * backup, 8 hours old, of each daily schedule the stack restores from, holding {@link sourceCluster}'s objects
     * as the default schedule takes them.
     */
    readonly backups?: readonly SimulatedBackup[];
    /**
     * The credentials Schedules' backups (`<cluster>-credentials`, components/velero/credentials.ts), apart so that
     * a test about the data backups need not restate them. Defaults to one Completed backup, 8 hours old, of each
     * credentials schedule the stack restores from; `[]` for a source that never took one.
     */
    readonly credentialsBackups?: readonly SimulatedBackup[];
    /** How Velero ends the Restore beyond what follows from the backup and the cluster. */
    readonly restore?: RestoreBehaviour;
    /**
     * What a bucket holds when it is not what {@link backups} and {@link credentialsBackups} describe, by bucket
     * name: the vault's replica, which lacks what replication did not copy (README, "When the vault's region is
     * down"), or a vault whose region is down (`[]`, nothing to sync). A location on a bucket named here syncs these
     * backups instead. Defaults to none: every bucket holds the same backups (replication caught up).
     */
    readonly bucketBackups?: Readonly<Record<string, readonly SimulatedBackup[]>>;
}

const secret = (namespace: string, name: string, labels: Record<string, string> = {}, type = "Opaque"): KubeObject => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels },
    type,
    data: { value: Buffer.from(`${namespace}/${name}`).toString("base64") },
});

const claim = (namespace: string, name: string, volume: string, storageClass: string): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace, labels: { app: namespace } },
    spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: "10Gi" } },
        storageClassName: storageClass,
        volumeName: volume,
    },
    status: { phase: "Bound" },
});

const volume = (name: string, claimRef: string, driver: string): KubeObject => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
        capacity: { storage: "10Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Delete",
        claimRef: { namespace: claimRef.split("/")[0], name: claimRef.split("/")[1] },
        csi: { driver, volumeHandle: `vol-${name}` },
    },
});

/** The source cluster's objects of the kinds a backup may hold, in every namespace. */
export function sourceCluster(storageClass = "gp3", driver = "ebs.csi.aws.com"): KubeObject[] {
    const apps = ["shop", "blog"];
    return [
        ...apps.flatMap((app) => [
            claim(app, "data", `pvc-${app}`, storageClass),
            volume(`pvc-${app}`, `${app}/data`, driver),
            secret(app, `${app}-db`),
            // Helm's release record of the app: never restored (the label selector leaves `owner: helm` out).
            secret(app, `sh.helm.release.v1.${app}.v1`, { owner: "helm", name: app }, "helm.sh/release.v1"),
        ]),
        // A token of a ServiceAccount made by hand: it survives a rebuild only with its ServiceAccount.
        {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: { name: "ci-deployer", namespace: "shop", labels: {} },
        },
        {
            ...secret("shop", "ci-deployer-token", {}, "kubernetes.io/service-account-token"),
            metadata: {
                name: "ci-deployer-token",
                namespace: "shop",
                labels: {},
                annotations: { "kubernetes.io/service-account.name": "ci-deployer" },
            },
        },
        secret("kube-system", "bootstrap-token-abcdef", {}, "bootstrap.kubernetes.io/token"),
        // Sealed Secrets' sealing key (bitnami-labs/sealed-secrets pkg/controller/keys.go writeKey).
        secret(
            "kube-system",
            "sealed-secrets-keyx7k2p",
            { "sealedsecrets.bitnami.com/sealed-secrets-key": "active" },
            "kubernetes.io/tls",
        ),
        secret("velero", "velero-repo-credentials"),
        // A controller installed by its chart in a namespace of its own, which the daily backup includes: its key
        // must come back once, by the credentials Restore.
        secret(
            "sealed-secrets",
            "sealed-secrets-key9q8wz",
            { "sealedsecrets.bitnami.com/sealed-secrets-key": "active" },
            "kubernetes.io/tls",
        ),
        // What the argo-cd chart creates (argo-helm `argo-cd.labels`), a repository from its configs.repositories too.
        secret("argocd", "argocd-secret", ARGO_CD_CHART_LABELS),
        secret("argocd", "argocd-repo-charts", {
            ...ARGO_CD_CHART_LABELS,
            "argocd.argoproj.io/secret-type": "repository",
        }),
        secret("argocd", "argocd-redis", { "app.kubernetes.io/part-of": "argocd" }),
        // Credentials added by hand or by a platform tool: one repository, one remote cluster.
        secret("argocd", "repo-payments", { "argocd.argoproj.io/secret-type": "repository" }),
        secret("argocd", "cluster-edge-1", { "argocd.argoproj.io/secret-type": "cluster" }),
        // What gitops-dr created in prod: made again by the program, never backed up.
        secret("argocd", "root-repository", {
            "argocd.argoproj.io/secret-type": "repository",
            "gitops-dr.io/managed": "true",
        }),
    ];
}

/** The labels the argo-cd chart gives what it creates (argo-helm `charts/argo-cd/templates/_common.tpl`). */
const ARGO_CD_CHART_LABELS = {
    "helm.sh/chart": "argo-cd-10.1.1",
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/part-of": "argocd",
};

/** Bytes of volume data each claim of the default source holds: the first 1 GiB, the second 2 GiB, and so on. */
export const DATA_BYTES_PER_CLAIM = 1024 ** 3;

/**
 * How each claim's data was kept, as BackupVolumeInfos records it (data mover: CSISnapshot, data moved, its size
 * in `snapshotDataMovementInfo`, velero v1.18.1 `internal/volume/volumes_information.go`).
 */
export function volumeInfosOf(contents: readonly KubeObject[]): KubeObject[] {
    return contents
        .filter((o) => o.kind === "PersistentVolumeClaim")
        .map((c, i) => ({
            pvcName: c.metadata.name,
            pvcNamespace: c.metadata.namespace,
            pvName: c.spec.volumeName,
            backupMethod: "CSISnapshot",
            snapshotDataMoved: true,
            snapshotDataMovementInfo: {
                dataMover: "velero",
                uploaderType: "kopia",
                size: (i + 1) * DATA_BYTES_PER_CLAIM,
            },
            result: "succeeded",
        }));
}

/**
 * Whether a namespace matches an include or exclude entry: a glob as gobwas/glob compiles it without separators
 * (velero v1.18.1 `pkg/util/collections/includes_excludes.go` `globStringSet.match`): `*` any run of characters,
 * `?` one, `[...]` a class; anything else literal.
 */
export function namespaceGlob(pattern: string, namespace: string): boolean {
    const source = pattern.replace(/\[[^\]]+\]|[*?]|[^*?[]+/g, (part) =>
        part === "*" ? ".*" : part === "?" ? "." : part.startsWith("[") ? part : part.replace(/[.+^${}()|\\]/g, "\\$&"),
    );
    return new RegExp(`^${source}$`).test(namespace);
}

/** The objects a Schedule's template takes from a cluster (`pkg/backup`: namespaces, resources, label selector). */
export function backupContents(objects: readonly KubeObject[], template: KubeObject): KubeObject[] {
    const RESOURCE: Record<string, string> = {
        PersistentVolume: "persistentvolumes",
        PersistentVolumeClaim: "persistentvolumeclaims",
        Secret: "secrets",
        Pod: "pods",
        ServiceAccount: "serviceaccounts",
    };
    const excluded = (template.excludedNamespaces ?? []) as string[];
    const included = (template.includedNamespaces ?? ["*"]) as string[];
    const resources = (template.includedResources ?? []) as string[];
    const or = template.orLabelSelectors as KubeObject[] | undefined;
    return objects.filter((o) => {
        const ns = o.metadata.namespace as string | undefined;
        const labels = (o.metadata.labels ?? {}) as Record<string, string>;
        return (
            (resources.length === 0 || resources.includes(RESOURCE[String(o.kind)] ?? "")) &&
            (ns === undefined
                ? template.includeClusterResources !== false
                : !excluded.some((e) => namespaceGlob(e, ns)) && included.some((i) => namespaceGlob(i, ns))) &&
            (or === undefined
                ? matchesExpressions(labels, template.labelSelector)
                : or.some((selector) => matchesExpressions(labels, selector)))
        );
    });
}

/** The template of the daily Schedule a protect stack with default settings registers. */
export function defaultScheduleTemplate(): KubeObject {
    return scheduleSpec(
        { key: "daily", name: "daily", cron: "0 2 * * *", ttl: "720h", ttlHours: 720 },
        {
            namespace: "velero",
            argoCdNamespace: "argocd",
            excludedNamespaces: [],
            volumeDataMode: "dataMover",
            consistentBackups: true,
        },
    ).template as KubeObject;
}

/** Velero names a schedule's backup `<schedule>-<UTC yyyyMMddHHmmss>` (`schedule_types.go` `TimestampedName`). */
export function scheduledBackupName(schedule: string, at: string): string {
    return `${schedule}-${at.replace(/[-:TZ]/g, "").slice(0, 14)}`;
}

/** One Completed backup of a schedule, taken at `at`, holding the default source's objects as `template` takes them. */
export function defaultBackup(
    schedule: string,
    at: string,
    template: KubeObject = defaultScheduleTemplate(),
): SimulatedBackup {
    const contents = backupContents(sourceCluster(), template);
    return {
        name: scheduledBackupName(schedule, at),
        schedule,
        phase: "Completed",
        startTimestamp: at,
        contents,
        volumeInfos: volumeInfosOf(contents),
    };
}

/** One Completed backup of a credentials schedule, taken at `at`: the default source's credentials. */
export function defaultCredentialsBackup(schedule: string, at: string): SimulatedBackup {
    const tier = { key: "credentials", name: schedule, cron: "0 2 * * *", ttl: "720h", ttlHours: 720 } as const;
    return defaultBackup(schedule, at, credentialsScheduleSpec(tier).template as KubeObject);
}

/**
 * The target cluster before the run, by default: the StorageClasses an EKS cluster with the EBS CSI add-on has, its
 * CSIDriver, and the VolumeSnapshotClass Velero resolves for it (README, "Protect a cluster").
 */
export function defaultTargetObjects(): KubeObject[] {
    return [
        ...["gp2", "gp3"].map((name) => ({
            apiVersion: "storage.k8s.io/v1",
            kind: "StorageClass",
            metadata: { name },
            provisioner: "ebs.csi.aws.com",
        })),
        { apiVersion: "storage.k8s.io/v1", kind: "CSIDriver", metadata: { name: "ebs.csi.aws.com" }, spec: {} },
        {
            apiVersion: "snapshot.storage.k8s.io/v1",
            kind: "VolumeSnapshotClass",
            metadata: { name: "ebs-csi", annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" } },
            driver: "ebs.csi.aws.com",
            deletionPolicy: "Delete",
        },
    ];
}

/** The `kubernetes` Service's Endpoints in `default`: where pods reach the API server. */
export function apiServerEndpoints(ip = "10.0.0.10", port = 6443): KubeObject {
    return {
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: "kubernetes", namespace: "default" },
        subsets: [{ addresses: [{ ip }], ports: [{ name: "https", port, protocol: "TCP" }] }],
    };
}
