/**
 * Velero: the pinned Helm release that owns the cluster's persistent data (PVs, PVCs, Secrets), with its backup
 * locations, kopia repository password, credentials and alerts. The Schedules are their own component
 * (schedules.ts): in recover they wait for the restore, which waits for this one.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { BackupTier, ChartSource, DataPathSettings, Mode, UserValues, VolumeDataMode } from "../config";
import { mergeValues, userSecret } from "../helm-values";
import { pinnedRelease } from "../kube";
import { DEFAULT_NAMES } from "../names";
import { VELERO_AWS_PLUGIN, VELERO_CHART } from "../versions";
import { WAIT_FOR, waitForAll } from "../wait";
import { backupStorageLocations, locationSpec } from "./locations";
import { REPO_CREDENTIALS_SECRET, REPO_PASSWORD_KEY, SOURCE_LOCATION, serverServiceAccountName } from "./names";
import { SourceStorage, VeleroCredentials, VeleroValuesInput, configHash, runsNodeAgent, veleroValues } from "./values";
import { DEFAULT_FILE_SYSTEM_BACKUP_VOLUME_TYPES, FileSystemBackupVolumeType } from "./volume-policy";

export * from "./alerts";
export * from "./locations";
export * from "./names";
export * from "./node-agent";
export * from "./preflight";
export * from "./schedule-spec";
export * from "./schedules";
export * from "./values";
export * from "./volume-policy";
export { AFTER_RESTORE_ANNOTATION } from "../names";

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
    /** Images of further plugins, pinned, run after the AWS plugin. Defaults to none. */
    plugins?: readonly string[];
    /** The vault. */
    bucketName: pulumi.Input<string>;
    region: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    /** Prefix the cluster writes its own backups under (protect, recover). */
    writePrefix?: pulumi.Input<string>;
    /** Prefix the cluster restores from (recover, drill). */
    sourcePrefix?: pulumi.Input<string>;
    /**
     * The bucket, region and key the `source` location reads, when not the vault's: the vault's off-site replica
     * (`sourceReplica`). Defaults to the vault.
     */
    sourceStorage?: pulumi.Input<SourceStorage>;
    /** Backup schedules; must be empty in a drill. */
    tiers: readonly BackupTier[];
    /** The credentials Schedule's name (components/velero/credentials.ts): alerted on like the tiers. */
    credentialsScheduleName?: string;
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
    /**
     * Volume types backed up by file-system backup through the node agent (volume-policy.ts); `[]` turns it off.
     * Defaults to `["local", "nfs"]`.
     */
    fileSystemBackupVolumeTypes?: readonly FileSystemBackupVolumeType[];
    /** Node labels data-mover pods must run on. Defaults to none. */
    dataMoverNodeLabels?: Readonly<Record<string, string>>;
    /**
     * Loads per node (node-agent ConfigMap) and files per load (the Schedules' uploaderConfig). Defaults to
     * Velero's own: one load per node, as many files as the node has CPUs.
     */
    dataPath?: DataPathSettings;
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
    /**
     * Chart values of the user's own (`gitops-dr:veleroValues`), checked against the guarded paths
     * (components/config/user-values.ts) and merged over the program's. Defaults to none.
     */
    userValues?: UserValues;
    /** Kubernetes provider of the target cluster. */
    provider: k8s.Provider;
}

/** The Velero installation of one cluster. */
export class Velero extends pulumi.ComponentResource {
    /** The Helm release; later steps of a recovery wait on it. */
    public readonly release: k8s.helm.v3.Release;
    public readonly namespace: pulumi.Output<string>;
    public readonly releaseName: string;
    public readonly serverServiceAccount: string;
    /** Names of the Schedule objects (`<clusterName>-<tier>`). */
    public readonly scheduleNames: string[];
    /** Everything the chart values depend on, resolved: the Schedules are built from it too. */
    public readonly valuesInput: pulumi.Output<VeleroValuesInput>;
    /** The backup tiers this cluster schedules (none in a drill). */
    public readonly tiers: readonly BackupTier[];
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
        const releaseName = args.releaseName ?? DEFAULT_NAMES.veleroRelease;
        const namespaceName = args.namespace ?? DEFAULT_NAMES.veleroNamespace;
        const fileSystemBackupVolumeTypes = args.fileSystemBackupVolumeTypes ?? DEFAULT_FILE_SYSTEM_BACKUP_VOLUME_TYPES;
        const nodeAgent = runsNodeAgent({ volumeDataMode: args.volumeDataMode, fileSystemBackupVolumeTypes });
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: namespaceName,
                    // The node agent mounts host paths to reach volume data; Pod Security must let it.
                    labels: nodeAgent ? { "pod-security.kubernetes.io/enforce": "privileged" } : {},
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
                credentials = pulumi
                    // An access key id is no secret (CloudTrail logs it); its hash only says that the key changed.
                    .unsecret(pulumi.output(argCredentials.accessKeyId))
                    .apply((id) => ({
                        mode: "staticKeys" as const,
                        secretName: "velero-cloud-credentials",
                        keyHash: configHash(id),
                    }));
                break;
            }
            default: {
                const unreachable: never = argCredentials;
                throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
            }
        }

        const input = pulumi
            .all([
                args.bucketName,
                args.region,
                args.kmsKeyArn,
                args.writePrefix,
                args.sourcePrefix,
                args.sourceStorage,
                credentials,
            ])
            .apply(
                ([
                    bucketName,
                    region,
                    kmsKeyArn,
                    writePrefix,
                    sourcePrefix,
                    sourceStorage,
                    resolved,
                ]): VeleroValuesInput => ({
                    mode: args.mode,
                    releaseName,
                    namespace: namespaceName,
                    volumeDataMode: args.volumeDataMode,
                    awsPluginVersion: args.awsPluginVersion ?? VELERO_AWS_PLUGIN.tag,
                    plugins: args.plugins ?? [],
                    bucketName,
                    region,
                    kmsKeyArn,
                    writePrefix,
                    sourcePrefix,
                    ...(sourceStorage === undefined ? {} : { sourceStorage }),
                    tiers: args.tiers,
                    credentialsScheduleName: args.credentialsScheduleName,
                    excludedNamespaces: args.excludedNamespaces ?? [],
                    argoCdNamespace: args.argoCdNamespace ?? DEFAULT_NAMES.argoCdNamespace,
                    credentials: resolved,
                    prometheusOperator: args.prometheusOperator ?? false,
                    dataMoverNodeLabels: args.dataMoverNodeLabels ?? {},
                    dataPath: args.dataPath,
                    consistentBackups: args.consistentBackups ?? true,
                    fileSystemBackupVolumeTypes,
                    monitoringLabels: args.monitoringLabels ?? {},
                    imageRegistry: args.imageRegistry,
                }),
            );

        // Later recovery steps create Velero objects and need the CRDs and a running server.
        this.release = pinnedRelease(
            `${name}-release`,
            {
                releaseName,
                namespace: namespace.metadata.name,
                chart: VELERO_CHART,
                source: args.chartSource,
                values: userSecret(
                    input.apply((i) => mergeValues(veleroValues(i), args.userValues?.values ?? {})),
                    args.userValues,
                ),
            },
            { ...child, dependsOn },
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

        this.valuesInput = input;
        this.tiers = args.tiers;
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
}
