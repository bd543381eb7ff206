/**
 * Velero: the pinned Helm release that owns the cluster's persistent data (PVs, PVCs, Secrets), with its
 * backup locations, schedules, kopia repository password, credentials and alerts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { alertRules } from "./alerts";
import type { BackupTier, ChartSource, Mode, VolumeDataMode } from "./config";
import { ImagePin, imageReference, mirrorImage, releaseChart } from "./mirrors";
import { WAIT_FOR, waitForAll } from "./wait";
import { KUBECTL_IMAGE, VELERO_AWS_PLUGIN, VELERO_CHART, VELERO_IMAGE } from "./versions";

/** What every schedule backs up: the persistent data. Argo CD rebuilds everything else from git. */
export const BACKED_UP_RESOURCES = ["persistentvolumes", "persistentvolumeclaims", "secrets"] as const;

/** Namespaces never backed up: the cluster's own, and those of the tools that rebuild it. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** Name of the Secret holding kopia's repository password (velero `pkg/repository/keys/keys.go`). */
export const REPO_CREDENTIALS_SECRET = "velero-repo-credentials";
/** Data key of the repository password in {@link REPO_CREDENTIALS_SECRET}. */
export const REPO_PASSWORD_KEY = "repository-password";

/** BSL names: the location a cluster writes to, and the read-only one it restores from. */
export const WRITE_LOCATION = "default";
export const SOURCE_LOCATION = "source";

/** The chart's `velero.fullname`: the release name when it contains "velero", else `<release>-velero`. */
export function veleroFullname(releaseName: string): string {
    return releaseName.includes("velero") ? releaseName : `${releaseName}-velero`;
}

/** The chart's server service account name (`<fullname>-server`), the subject of IRSA's trust. */
export function serverServiceAccountName(releaseName: string): string {
    return `${veleroFullname(releaseName)}-server`;
}

/** How the Velero pods get AWS credentials, resolved. */
export type VeleroCredentials =
    | { readonly mode: "irsa"; readonly roleArn: string }
    | { readonly mode: "podIdentity" }
    | { readonly mode: "staticKeys"; readonly secretName: string };

/** Everything the chart values depend on, resolved to plain values. */
export interface VeleroValuesInput {
    readonly mode: Mode;
    readonly releaseName: string;
    readonly namespace: string;
    readonly volumeDataMode: VolumeDataMode;
    readonly awsPluginVersion: string;
    readonly bucketName: string;
    readonly region: string;
    readonly kmsKeyArn: string;
    /** Prefix of the cluster's own backups (protect, recover). */
    readonly writePrefix?: string;
    /** Prefix restored from (recover, drill). */
    readonly sourcePrefix?: string;
    readonly tiers: readonly BackupTier[];
    /** Namespaces excluded on top of {@link SYSTEM_NAMESPACES}, Velero's and Argo CD's. */
    readonly excludedNamespaces: readonly string[];
    readonly argoCdNamespace: string;
    readonly credentials: VeleroCredentials;
    readonly prometheusOperator: boolean;
    /** Include pods in backups so their hooks run. Defaults to `true` in the program's config. */
    readonly consistentBackups?: boolean;
    /** Node labels data-mover pods must run on. Defaults to none. */
    readonly dataMoverNodeLabels?: Readonly<Record<string, string>>;
    /**
     * Extra labels on the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule, for a Prometheus whose
     * selectors require them (e.g. `release: kube-prometheus-stack`). Defaults to `{}`.
     */
    readonly monitoringLabels?: Readonly<Record<string, string>>;
    /** Registry every image is pulled from (`<registry>/<path without the public host>`). Defaults to none: public registries. */
    readonly imageRegistry?: string;
}

/** The velero chart's `{ repository, tag, digest }` image values: with a digest, the chart pulls by digest. */
function chartImage(pin: ImagePin): Record<string, string> {
    return { repository: pin.repository, tag: pin.tag, ...(pin.digest === undefined ? {} : { digest: pin.digest }) };
}

interface LocationValues {
    name: string;
    provider: "aws";
    bucket: string;
    prefix: string;
    default: boolean;
    accessMode: "ReadWrite" | "ReadOnly";
    config: { region: string; kmsKeyId: string };
}

/**
 * The backup storage locations per mode, as chart values. A drill has only the read-only one; recover has both.
 * The chart renders only the ReadWrite one ({@link chartLocations}); the ReadOnly `source` location is a Pulumi
 * resource whose readiness is the restore's sync barrier ({@link sourceLocationSpec}).
 */
export function backupStorageLocations(input: VeleroValuesInput): LocationValues[] {
    const location = (
        name: string,
        prefix: string | undefined,
        accessMode: LocationValues["accessMode"],
        isDefault: boolean,
    ): LocationValues => {
        if (prefix === undefined) {
            throw new Error(`the ${name} backup location needs a prefix in ${input.mode} mode`);
        }
        return {
            name,
            provider: "aws",
            bucket: input.bucketName,
            prefix,
            default: isDefault,
            accessMode,
            // checksumAlgorithm is left out on purpose: the plugin's default (CRC32) is what a PutObject on an
            // Object Lock bucket needs; "" would switch checksums off (velero-plugin-for-aws PR #193).
            config: { region: input.region, kmsKeyId: input.kmsKeyArn },
        };
    };
    switch (input.mode) {
        case "protect":
            return [location(WRITE_LOCATION, input.writePrefix, "ReadWrite", true)];
        case "recover":
            // The lost cluster's backups are only ever read: its prefix gets a ReadOnly location, and the new
            // cluster's own schedules write to a different prefix.
            return [
                location(WRITE_LOCATION, input.writePrefix, "ReadWrite", true),
                location(SOURCE_LOCATION, input.sourcePrefix, "ReadOnly", false),
            ];
        case "drill":
            return [location(SOURCE_LOCATION, input.sourcePrefix, "ReadOnly", true)];
        default: {
            const unreachable: never = input.mode;
            throw new Error(`unhandled mode ${String(unreachable)}`);
        }
    }
}

/** The locations the chart creates: the ReadWrite one, when the mode writes backups. */
export function chartLocations(input: VeleroValuesInput): LocationValues[] {
    return backupStorageLocations(input).filter((l) => l.accessMode === "ReadWrite");
}

/** The `velero.io/v1 BackupStorageLocation` spec of a location (../shared/reference/velero-1.18-crds). */
export function locationSpec(l: LocationValues): Record<string, unknown> {
    return {
        provider: l.provider,
        objectStorage: { bucket: l.bucket, prefix: l.prefix },
        config: l.config,
        accessMode: l.accessMode,
        default: l.default,
    };
}

/** Namespaces every schedule excludes. */
export function excludedNamespaces(
    input: Pick<VeleroValuesInput, "namespace" | "argoCdNamespace" | "excludedNamespaces">,
): string[] {
    return [...new Set([...SYSTEM_NAMESPACES, input.namespace, input.argoCdNamespace, ...input.excludedNamespaces])];
}

/**
 * Helm release Secrets (`owner: helm`, one per release revision) are not persistent data: they describe what
 * Argo CD and Pulumi install again. `NotIn` also matches every object without the label (Kubernetes label
 * selector semantics), so PVs, PVCs and other Secrets are unaffected.
 */
export const NOT_HELM_RELEASE_SECRETS = {
    matchExpressions: [{ key: "owner", operator: "NotIn", values: ["helm"] }],
} as const;

/**
 * The spec of one tier's `velero.io/v1 Schedule` (fields from ../shared/reference/velero-1.18-crds/schedules.yaml).
 * Schedules are Pulumi resources rather than chart values so that a recovered cluster's schedules can wait for
 * its restore to end (a new Schedule backs up at its next cron tick, velero `schedule_controller.go`
 * `getNextRunTime`, which could fall in the middle of a restore).
 */
export function scheduleSpec(
    tier: BackupTier,
    input: Pick<
        VeleroValuesInput,
        "namespace" | "argoCdNamespace" | "excludedNamespaces" | "volumeDataMode" | "consistentBackups"
    >,
): Record<string, unknown> {
    return {
        schedule: tier.cron,
        useOwnerReferencesInBackup: false,
        template: {
            ttl: tier.ttl,
            storageLocation: WRITE_LOCATION,
            // Pods make the backup consistent: Velero runs a pod's backup hooks only when the backup includes the
            // pod (velero docs "Backup Hooks"; pkg/backup/item_backupper.go), freezing or flushing the app
            // around its volumes' snapshots. Restores never take pods (components/restore.ts).
            includedResources:
                input.consistentBackups === true ? [...BACKED_UP_RESOURCES, "pods"] : [...BACKED_UP_RESOURCES],
            // PersistentVolumes are cluster-scoped; includedResources keeps every other cluster kind out.
            includeClusterResources: true,
            excludedNamespaces: excludedNamespaces(input),
            labelSelector: NOT_HELM_RELEASE_SECRETS,
            snapshotVolumes: true,
            // With the data mover the snapshot's data is copied by kopia into the locked bucket. Limiting the
            // backup to PVs, PVCs and Secrets does not stop that: the CSI PVC action creates the DataUpload
            // itself and marks it must-include (velero pkg/backup/actions/csi/pvc_action.go, Execute;
            // pkg/backup/item_backupper.go, itemInclusionChecks).
            snapshotMoveData: input.volumeDataMode === "dataMover",
            defaultVolumesToFsBackup: false,
            resourcePolicy: { kind: "configmap", name: VOLUME_POLICY_CONFIGMAP },
            ...(input.volumeDataMode === "nativeSnapshots" ? { volumeSnapshotLocations: ["default"] } : {}),
        },
    };
}

/** The resource-policy ConfigMap every Schedule names. */
export const VOLUME_POLICY_CONFIGMAP = "gitops-dr-volume-policy";

/**
 * The volume policy every backup follows: snapshot every volume, never file-system backup. A pod's
 * `backup.velero.io/backup-volumes` opt-in would otherwise make Velero skip its PV's snapshot in favour of a
 * file-system backup (velero `internal/volumehelper/volume_policy_helper.go` `ShouldPerformSnapshot`) that
 * restores only into a pod Velero restores, and ours never restore pods: the data would not come back. A
 * matching volume policy is checked first, before the opt-in annotations, in both `ShouldPerformSnapshot` and
 * `ShouldPerformFSBackup`. `capacity: "0,"` matches every volume (`parseCapacity`, `isInRange`: no upper bound).
 * The ConfigMap must hold exactly one key (`getResourcePoliciesFromConfig`), version v1.
 */
export function volumePolicy(): string {
    return [
        "version: v1",
        "volumePolicies:",
        "  - conditions:",
        '      capacity: "0,"',
        "    action:",
        "      type: snapshot",
        "",
    ].join("\n");
}

/**
 * The node-agent ConfigMap's single JSON document (velero docs v1.18, data-movement-restore-pvc-configuration.md
 * and data-movement-node-selection.md).
 */
export function nodeAgentConfig(nodeLabels: Readonly<Record<string, string>> = {}): Record<string, unknown> {
    return {
        // Restored claims of a WaitForFirstConsumer class would wait for a pod, and pods only come once Argo CD
        // syncs after the restore: bind them at restore time instead. Each restored volume is then created in
        // the zone of the node that runs its data-mover pod (the docs' Note), hence the optional loadAffinity.
        restorePVC: { ignoreDelayBinding: true },
        ...(Object.keys(nodeLabels).length > 0
            ? { loadAffinity: [{ nodeSelector: { matchLabels: { ...nodeLabels } } }] }
            : {}),
    };
}

/** Chart key of the node-agent ConfigMap in `configMaps`; the chart names it `<fullname>-<key>`. */
const NODE_AGENT_CONFIGMAP_KEY = "node-agent-config";

/** The velero chart 12.1.0 values for a mode. Every key is one the chart's templates read. */
export function veleroValues(input: VeleroValuesInput): Record<string, unknown> {
    const fullname = veleroFullname(input.releaseName);
    const dataMover = input.volumeDataMode === "dataMover";
    const native = input.volumeDataMode === "nativeSnapshots";
    const credentials = input.credentials;
    const monitoringLabels = input.monitoringLabels ?? {};
    let credentialValues: Record<string, unknown>;
    switch (credentials.mode) {
        case "irsa":
        case "podIdentity":
            // Both inject credentials into the pod; a credentials Secret would override them (velero #8240).
            credentialValues = { useSecret: false };
            break;
        case "staticKeys":
            credentialValues = { useSecret: true, existingSecret: credentials.secretName };
            break;
        default: {
            const unreachable: never = credentials;
            throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
        }
    }

    const registry = input.imageRegistry;
    return {
        image: chartImage(mirrorImage(VELERO_IMAGE, registry)),
        // The chart's CRD clean-up and namespace-label jobs run kubectl (templates cleanup-crds.yaml,
        // label-namespace/labelnamespace.yaml); neither is on with these values, but none may pull from a public
        // registry if one is turned on. The tag is pinned: unset, the chart derives it from the cluster version.
        kubectl: { image: chartImage(mirrorImage(KUBECTL_IMAGE, registry)) },
        initContainers: [
            {
                name: "velero-plugin-for-aws",
                image: imageReference(
                    mirrorImage({ repository: VELERO_AWS_PLUGIN.repository, tag: input.awsPluginVersion }, registry),
                ),
                imagePullPolicy: "IfNotPresent",
                volumeMounts: [{ mountPath: "/target", name: "plugins" }],
            },
        ],
        upgradeCRDs: true,
        cleanUpCRDs: false,
        configuration: {
            backupStorageLocation: chartLocations(input),
            volumeSnapshotLocation: native
                ? [{ name: "default", provider: "aws", config: { region: input.region } }]
                : [],
            // The CSI backup item action only runs with this feature flag (velero pkg/backup/item_backupper.go).
            features: dataMover ? "EnableCSI" : "",
            defaultSnapshotMoveData: dataMover,
            uploaderType: "kopia",
        },
        backupsEnabled: true,
        snapshotsEnabled: native,
        deployNodeAgent: dataMover,
        nodeAgent: dataMover ? { extraArgs: [`--node-agent-configmap=${fullname}-${NODE_AGENT_CONFIGMAP_KEY}`] } : {},
        configMaps: dataMover
            ? {
                  [NODE_AGENT_CONFIGMAP_KEY]: {
                      data: { "node-agent-config.json": JSON.stringify(nodeAgentConfig(input.dataMoverNodeLabels)) },
                  },
              }
            : {},
        credentials: credentialValues,
        serviceAccount: {
            server: {
                create: true,
                name: serverServiceAccountName(input.releaseName),
                annotations: credentials.mode === "irsa" ? { "eks.amazonaws.com/role-arn": credentials.roleArn } : {},
            },
        },
        // Schedules are Pulumi resources (scheduleSpec), not chart values.
        schedules: {},
        metrics: {
            enabled: true,
            // additionalLabels go onto each object's metadata.labels, where a Prometheus's serviceMonitorSelector,
            // podMonitorSelector and ruleSelector look (chart templates servicemonitor.yaml, podmonitor.yaml,
            // prometheusrule.yaml).
            serviceMonitor: {
                enabled: input.prometheusOperator,
                autodetect: false,
                additionalLabels: { ...monitoringLabels },
            },
            nodeAgentPodMonitor: {
                enabled: input.prometheusOperator && dataMover,
                autodetect: false,
                additionalLabels: { ...monitoringLabels },
            },
            prometheusRule: {
                enabled: input.prometheusOperator,
                autodetect: false,
                additionalLabels: { ...monitoringLabels },
                // The chart wraps this list in one rule group (alerts.ts alertRuleGroup) and renders no
                // PrometheusRule when it is empty.
                spec: input.prometheusOperator ? alertRules() : [],
            },
        },
    };
}

export interface VeleroArgs {
    /** The stack's mode: decides locations and schedules. */
    mode: Mode;
    /** Helm release name. Defaults to `velero`. */
    releaseName?: string;
    /** Namespace Velero runs in; this component creates it. Defaults to `velero`. */
    namespace?: string;
    /** How volume data is backed up. */
    volumeDataMode: VolumeDataMode;
    /** velero-plugin-for-aws image tag. Defaults to the pinned one. */
    awsPluginVersion?: string;
    /** The vault. */
    bucketName: pulumi.Input<string>;
    region: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    /** Prefix the cluster writes its own backups under (protect, recover). */
    writePrefix?: pulumi.Input<string>;
    /** Prefix the cluster restores from (recover, drill). */
    sourcePrefix?: pulumi.Input<string>;
    /** Backup schedules; must be empty in a drill. */
    tiers: readonly BackupTier[];
    /** Namespaces excluded on top of the system ones. Defaults to none. */
    excludedNamespaces?: readonly string[];
    /** Argo CD's namespace, excluded from backups. Defaults to `argocd`. */
    argoCdNamespace?: string;
    /** kopia repository password, a secret. */
    repoPassword: pulumi.Input<string>;
    /** Role ARN for IRSA, or the static key pair, or nothing for Pod Identity. */
    credentials:
        | { mode: "irsa"; roleArn: pulumi.Input<string> }
        | { mode: "podIdentity" }
        | { mode: "staticKeys"; accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
    /** Create a ServiceMonitor and a PrometheusRule. Defaults to `false`. */
    prometheusOperator?: boolean;
    /** Include pods in backups so their backup hooks run. Defaults to `true`. */
    consistentBackups?: boolean;
    /** Node labels data-mover pods must run on. Defaults to none. */
    dataMoverNodeLabels?: Readonly<Record<string, string>>;
    /** CSI drivers to create a VolumeSnapshotClass for, labelled for Velero. Defaults to none. */
    volumeSnapshotClassDrivers?: readonly string[];
    /** How long the source location may take to become Available and synced, in minutes. Defaults to 20. */
    syncTimeoutMinutes?: number;
    /**
     * What the release must wait for, e.g. Velero's IAM (a component: the SDK expands it to its children). A
     * component's own `dependsOn` does not reach its children, so it is passed here. Defaults to none.
     */
    after?: pulumi.Resource[];
    /**
     * Extra labels on the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule, so that a Prometheus
     * whose selectors require them picks them up. Defaults to `{}`.
     */
    monitoringLabels?: Readonly<Record<string, string>>;
    /** Where the pinned velero chart comes from. Defaults to its public repository. */
    chartSource?: ChartSource;
    /** Registry every image is pulled from (components/mirrors.ts). Defaults to none: public registries. */
    imageRegistry?: string;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** Annotation by which a Schedule records the restore it waited for. */
export const AFTER_RESTORE_ANNOTATION = "gitops-dr.io/after-restore";

/** The Velero installation of one cluster. */
export class Velero extends pulumi.ComponentResource {
    /** The Helm release; later steps of a recovery wait on it. */
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: pulumi.Output<string>;
    public readonly releaseName: string;
    public readonly serverServiceAccount: string;
    /** Names of the Schedule objects (`<clusterName>-<tier>`). */
    public readonly scheduleNames: string[];
    private readonly scheduleInput: {
        readonly input: pulumi.Output<VeleroValuesInput>;
        readonly afterRelease: pulumi.CustomResourceOptions;
        readonly namespace: string;
        readonly tiers: readonly BackupTier[];
        readonly name: string;
    };
    /**
     * recover, drill: the read-only `source` location. Its create returns only once it is Available and Velero
     * synced its backups into the cluster (`status.lastSyncedTime`): the restore's sync barrier.
     */
    public readonly sourceLocation?: k8s.apiextensions.CustomResource;

    constructor(name: string, args: VeleroArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:velero:Velero", name, {}, { ...opts, providers: [args.provider] });
        if (args.mode === "drill" && args.tiers.length > 0) {
            throw new Error(
                `Velero ${name}: a drill takes no backups, but ${args.tiers.length} schedule(s) were given`,
            );
        }
        const releaseName = args.releaseName ?? "velero";
        const namespaceName = args.namespace ?? "velero";
        const dataMover = args.volumeDataMode === "dataMover";
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: namespaceName,
                    // The node agent mounts host paths to reach volume data; Pod Security must let it.
                    labels: dataMover ? { "pod-security.kubernetes.io/enforce": "privileged" } : {},
                },
            },
            child,
        );

        // Created before Velero starts: if it is missing Velero creates it with a fixed default password
        // (velero pkg/repository/keys/keys.go), and the password can only be chosen before the first backup.
        const repoCredentials = new k8s.core.v1.Secret(
            `${name}-repo-credentials`,
            {
                metadata: { name: REPO_CREDENTIALS_SECRET, namespace: namespace.metadata.name },
                type: "Opaque",
                stringData: { [REPO_PASSWORD_KEY]: pulumi.secret(args.repoPassword) },
            },
            child,
        );

        const dependsOn: pulumi.Resource[] = [namespace, repoCredentials, ...(args.after ?? [])];
        let credentials: pulumi.Output<VeleroCredentials>;
        const argCredentials = args.credentials;
        switch (argCredentials.mode) {
            case "irsa":
                credentials = pulumi
                    .output(argCredentials.roleArn)
                    .apply((roleArn) => ({ mode: "irsa" as const, roleArn }));
                break;
            case "podIdentity":
                credentials = pulumi.output({ mode: "podIdentity" as const });
                break;
            case "staticKeys": {
                const secret = new k8s.core.v1.Secret(
                    `${name}-cloud-credentials`,
                    {
                        metadata: { name: "velero-cloud-credentials", namespace: namespace.metadata.name },
                        type: "Opaque",
                        stringData: {
                            // The AWS shared credentials file format the plugin reads from the `cloud` key.
                            cloud: pulumi
                                .all([argCredentials.accessKeyId, argCredentials.secretAccessKey])
                                .apply(([id, key]) =>
                                    pulumi.secret(`[default]\naws_access_key_id=${id}\naws_secret_access_key=${key}\n`),
                                ),
                        },
                    },
                    child,
                );
                dependsOn.push(secret);
                credentials = pulumi.output({ mode: "staticKeys" as const, secretName: "velero-cloud-credentials" });
                break;
            }
            default: {
                const unreachable: never = argCredentials;
                throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
            }
        }

        const input = pulumi
            .all([args.bucketName, args.region, args.kmsKeyArn, args.writePrefix, args.sourcePrefix, credentials])
            .apply(([bucketName, region, kmsKeyArn, writePrefix, sourcePrefix, resolved]): VeleroValuesInput => ({
                mode: args.mode,
                releaseName,
                namespace: namespaceName,
                volumeDataMode: args.volumeDataMode,
                awsPluginVersion: args.awsPluginVersion ?? VELERO_AWS_PLUGIN.tag,
                bucketName,
                region,
                kmsKeyArn,
                writePrefix,
                sourcePrefix,
                tiers: args.tiers,
                excludedNamespaces: args.excludedNamespaces ?? [],
                argoCdNamespace: args.argoCdNamespace ?? "argocd",
                credentials: resolved,
                prometheusOperator: args.prometheusOperator ?? false,
                dataMoverNodeLabels: args.dataMoverNodeLabels ?? {},
                consistentBackups: args.consistentBackups ?? true,
                monitoringLabels: args.monitoringLabels ?? {},
                imageRegistry: args.imageRegistry,
            }));

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: releaseName,
                namespace: namespace.metadata.name,
                createNamespace: false,
                ...releaseChart(VELERO_CHART, args.chartSource),
                values: input.apply(veleroValues),
                // Wait for the Deployment, the node agent and the CRD upgrade hook job: later recovery steps create
                // Velero objects and need the CRDs and a running server.
                skipAwait: false,
                waitForJobs: true,
                timeout: 900,
                // Never let Helm roll back or uninstall on failure: it would delete what is already running.
                atomic: false,
                cleanupOnFail: false,
                maxHistory: 10,
            },
            { ...child, dependsOn, customTimeouts: { create: "20m", update: "20m" } },
        );

        const afterRelease = { ...child, dependsOn: [this.release] };
        for (const driver of args.volumeSnapshotClassDrivers ?? []) {
            // Velero picks the class labelled for a driver before the default one (velero
            // pkg/util/csi/volume_snapshot.go GetVolumeSnapshotClass). Delete: with the data mover the snapshot
            // is only a staging copy; the data lives in the vault.
            new k8s.apiextensions.CustomResource(
                `${name}-snapshot-class-${driver}`,
                {
                    apiVersion: "snapshot.storage.k8s.io/v1",
                    kind: "VolumeSnapshotClass",
                    // Cluster-scoped, so the name may be a 253-character subdomain: the driver's name fits as it is.
                    metadata: { name: `gitops-dr-${driver}`, labels: { "velero.io/csi-volumesnapshot-class": "true" } },
                    driver,
                    deletionPolicy: "Delete",
                },
                child,
            );
        }
        this.scheduleInput = { input, afterRelease, namespace: namespaceName, tiers: args.tiers, name };

        if (args.mode !== "protect") {
            const syncTimeout = args.syncTimeoutMinutes ?? 20;
            this.sourceLocation = new k8s.apiextensions.CustomResource(
                `${name}-source-location`,
                {
                    apiVersion: "velero.io/v1",
                    kind: "BackupStorageLocation",
                    metadata: {
                        name: SOURCE_LOCATION,
                        namespace: namespaceName,
                        annotations: {
                            // Velero syncs backups only from an Available location and sets lastSyncedTime after
                            // each sync (velero pkg/controller/backup_sync_controller.go). A Restore created before
                            // its backup is synced fails validation for good (restore_controller.go).
                            [WAIT_FOR]: waitForAll([
                                "jsonpath={.status.phase}=Available",
                                "jsonpath={.status.lastSyncedTime}",
                            ]),
                        },
                    },
                    spec: input.apply((i) => {
                        const source = backupStorageLocations(i).find((l) => l.name === SOURCE_LOCATION);
                        if (source === undefined) {
                            throw new Error(`Velero ${name}: no source location in ${args.mode} mode`);
                        }
                        return locationSpec(source);
                    }),
                    // A TypeScript CustomResource exposes only the keys its args name (pulumi-kubernetes #1836).
                    status: undefined,
                },
                { ...afterRelease, customTimeouts: { create: `${syncTimeout}m`, update: `${syncTimeout}m` } },
            );
        }

        this.namespace = namespace.metadata.name;
        this.releaseName = releaseName;
        this.serverServiceAccount = serverServiceAccountName(releaseName);
        this.scheduleNames = args.tiers.map((t) => t.name);
        this.registerOutputs({
            namespace: this.namespace,
            releaseName: this.releaseName,
            serverServiceAccount: this.serverServiceAccount,
            scheduleNames: this.scheduleNames,
        });
    }

    /**
     * Creates the backup Schedules, after the release. `gate` is a value they take as an input (an annotation),
     * so they are created only once it is known: in recover, the restore's checked end, because a new Schedule
     * backs up at its next cron tick (velero `schedule_controller.go` `getNextRunTime`), which could fall in the
     * middle of the restore. Call once.
     */
    public createSchedules(gate?: pulumi.Input<string>): k8s.apiextensions.CustomResource[] {
        const { input, afterRelease, namespace, tiers, name } = this.scheduleInput;
        if (tiers.length === 0) {
            return [];
        }
        const policy = new k8s.core.v1.ConfigMap(
            `${name}-volume-policy`,
            {
                metadata: { name: VOLUME_POLICY_CONFIGMAP, namespace },
                data: { "policy.yaml": volumePolicy() },
            },
            afterRelease,
        );
        const schedulesOptions = { ...afterRelease, dependsOn: [this.release, policy] };
        return tiers.map(
            (tier) =>
                new k8s.apiextensions.CustomResource(
                    `${name}-schedule-${tier.key}`,
                    {
                        apiVersion: "velero.io/v1",
                        kind: "Schedule",
                        metadata: {
                            name: tier.name,
                            namespace,
                            annotations: gate === undefined ? {} : { [AFTER_RESTORE_ANNOTATION]: gate },
                        },
                        spec: input.apply((i) => scheduleSpec(tier, i)),
                    },
                    schedulesOptions,
                ),
        );
    }
}
