/**
 * Velero: the pinned Helm release that owns the cluster's persistent data (PVs, PVCs, Secrets), with its
 * backup locations, schedules, kopia repository password, credentials and alerts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { alertRules } from "./alerts";
import type { BackupTier, Mode, VolumeDataMode } from "./config";
import { VELERO_AWS_PLUGIN, VELERO_CHART, VELERO_IMAGE } from "./versions";

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
    /**
     * Extra labels on the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule, for a Prometheus whose
     * selectors require them (e.g. `release: kube-prometheus-stack`). Defaults to `{}`.
     */
    readonly monitoringLabels?: Readonly<Record<string, string>>;
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

/** The backup storage locations per mode. A drill has only the read-only one; recover has both. */
export function backupStorageLocations(input: VeleroValuesInput): LocationValues[] {
    const location = (name: string, prefix: string | undefined, accessMode: LocationValues["accessMode"], isDefault: boolean): LocationValues => {
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

/** Namespaces every schedule excludes. */
export function excludedNamespaces(input: Pick<VeleroValuesInput, "namespace" | "argoCdNamespace" | "excludedNamespaces">): string[] {
    return [...new Set([...SYSTEM_NAMESPACES, input.namespace, input.argoCdNamespace, ...input.excludedNamespaces])];
}

/** The chart's `schedules` map: one entry per tier, each rendered as the Schedule `<fullname>-<key>`. */
export function schedules(input: VeleroValuesInput): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const tier of input.tiers) {
        result[tier.key] = {
            schedule: tier.cron,
            useOwnerReferencesInBackup: false,
            template: {
                ttl: tier.ttl,
                storageLocation: WRITE_LOCATION,
                includedResources: [...BACKED_UP_RESOURCES],
                // PersistentVolumes are cluster-scoped; includedResources keeps every other cluster kind out.
                includeClusterResources: true,
                excludedNamespaces: excludedNamespaces(input),
                snapshotVolumes: true,
                // With the data mover the snapshot's data is copied by kopia into the locked bucket. Limiting the
                // backup to PVs, PVCs and Secrets does not stop that: the CSI PVC action creates the DataUpload
                // itself and marks it must-include (velero pkg/backup/actions/csi/pvc_action.go, Execute;
                // pkg/backup/item_backupper.go, itemInclusionChecks).
                snapshotMoveData: input.volumeDataMode === "dataMover",
                defaultVolumesToFsBackup: false,
                ...(input.volumeDataMode === "nativeSnapshots" ? { volumeSnapshotLocations: ["default"] } : {}),
            },
        };
    }
    return result;
}

/** The node-agent ConfigMap's single JSON document (velero docs, data-movement-restore-pvc-configuration.md). */
export function nodeAgentConfig(): Record<string, unknown> {
    // Restored claims of a WaitForFirstConsumer class would wait for a pod, and pods only come once Argo CD
    // syncs after the restore: bind them at restore time instead.
    return { restorePVC: { ignoreDelayBinding: true } };
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

    return {
        image: { repository: VELERO_IMAGE.repository, tag: VELERO_IMAGE.tag },
        initContainers: [
            {
                name: "velero-plugin-for-aws",
                image: `${VELERO_AWS_PLUGIN.repository}:${input.awsPluginVersion}`,
                imagePullPolicy: "IfNotPresent",
                volumeMounts: [{ mountPath: "/target", name: "plugins" }],
            },
        ],
        upgradeCRDs: true,
        cleanUpCRDs: false,
        configuration: {
            backupStorageLocation: backupStorageLocations(input),
            volumeSnapshotLocation: native ? [{ name: "default", provider: "aws", config: { region: input.region } }] : [],
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
            ? { [NODE_AGENT_CONFIGMAP_KEY]: { data: { "node-agent-config.json": JSON.stringify(nodeAgentConfig()) } } }
            : {},
        credentials: credentialValues,
        serviceAccount: {
            server: {
                create: true,
                name: serverServiceAccountName(input.releaseName),
                annotations: credentials.mode === "irsa" ? { "eks.amazonaws.com/role-arn": credentials.roleArn } : {},
            },
        },
        schedules: schedules(input),
        metrics: {
            enabled: true,
            // additionalLabels go onto each object's metadata.labels, where a Prometheus's serviceMonitorSelector,
            // podMonitorSelector and ruleSelector look (chart templates servicemonitor.yaml, podmonitor.yaml,
            // prometheusrule.yaml).
            serviceMonitor: { enabled: input.prometheusOperator, autodetect: false, additionalLabels: { ...monitoringLabels } },
            nodeAgentPodMonitor: { enabled: input.prometheusOperator && dataMover, autodetect: false, additionalLabels: { ...monitoringLabels } },
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
    /**
     * Extra labels on the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule, so that a Prometheus
     * whose selectors require them picks them up. Defaults to `{}`.
     */
    monitoringLabels?: Readonly<Record<string, string>>;
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
    /** Names of the Schedule objects (`<fullname>-<tier>`). */
    public readonly scheduleNames: string[];
    /** Name of the read-only location restored from, in recover and drill. */
    public readonly sourceLocation?: string;

    constructor(name: string, args: VeleroArgs, opts?: pulumi.ComponentResourceOptions) {
        super("gitops-dr:velero:Velero", name, {}, { ...opts, providers: [args.provider] });
        if (args.mode === "drill" && args.tiers.length > 0) {
            throw new Error(`Velero ${name}: a drill takes no backups, but ${args.tiers.length} schedule(s) were given`);
        }
        const releaseName = args.releaseName ?? "velero";
        const namespaceName = args.namespace ?? "velero";
        const dataMover = args.volumeDataMode === "dataMover";
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: {
                name: namespaceName,
                // The node agent mounts host paths to reach volume data; Pod Security must let it.
                labels: dataMover ? { "pod-security.kubernetes.io/enforce": "privileged" } : {},
            },
        }, child);

        // Created before Velero starts: if it is missing Velero creates it with a fixed default password
        // (velero pkg/repository/keys/keys.go), and the password can only be chosen before the first backup.
        const repoCredentials = new k8s.core.v1.Secret(`${name}-repo-credentials`, {
            metadata: { name: REPO_CREDENTIALS_SECRET, namespace: namespace.metadata.name },
            type: "Opaque",
            stringData: { [REPO_PASSWORD_KEY]: pulumi.secret(args.repoPassword) },
        }, child);

        const dependsOn: pulumi.Resource[] = [namespace, repoCredentials];
        let credentials: pulumi.Output<VeleroCredentials>;
        const argCredentials = args.credentials;
        switch (argCredentials.mode) {
            case "irsa":
                credentials = pulumi.output(argCredentials.roleArn).apply((roleArn) => ({ mode: "irsa" as const, roleArn }));
                break;
            case "podIdentity":
                credentials = pulumi.output({ mode: "podIdentity" as const });
                break;
            case "staticKeys": {
                const secret = new k8s.core.v1.Secret(`${name}-cloud-credentials`, {
                    metadata: { name: "velero-cloud-credentials", namespace: namespace.metadata.name },
                    type: "Opaque",
                    stringData: {
                        // The AWS shared credentials file format the plugin reads from the `cloud` key.
                        cloud: pulumi
                            .all([argCredentials.accessKeyId, argCredentials.secretAccessKey])
                            .apply(([id, key]) => pulumi.secret(`[default]\naws_access_key_id=${id}\naws_secret_access_key=${key}\n`)),
                    },
                }, child);
                dependsOn.push(secret);
                credentials = pulumi.output({ mode: "staticKeys" as const, secretName: "velero-cloud-credentials" });
                break;
            }
            default: {
                const unreachable: never = argCredentials;
                throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
            }
        }

        const values = pulumi
            .all([args.bucketName, args.region, args.kmsKeyArn, args.writePrefix, args.sourcePrefix, credentials])
            .apply(([bucketName, region, kmsKeyArn, writePrefix, sourcePrefix, resolved]) =>
                veleroValues({
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
                    monitoringLabels: args.monitoringLabels ?? {},
                }),
            );

        this.release = new k8s.helm.v3.Release(`${name}-release`, {
            name: releaseName,
            namespace: namespace.metadata.name,
            createNamespace: false,
            chart: VELERO_CHART.name,
            version: VELERO_CHART.version,
            repositoryOpts: { repo: VELERO_CHART.repo },
            values,
            // Wait for the Deployment, the node agent and the CRD upgrade hook job: later recovery steps create
            // Velero objects and need the CRDs and a running server.
            skipAwait: false,
            waitForJobs: true,
            timeout: 900,
            // Never let Helm roll back or uninstall on failure: it would delete what is already running.
            atomic: false,
            cleanupOnFail: false,
            maxHistory: 10,
        }, { ...child, dependsOn, customTimeouts: { create: "20m", update: "20m" } });

        this.namespace = namespace.metadata.name;
        this.releaseName = releaseName;
        this.serverServiceAccount = serverServiceAccountName(releaseName);
        this.scheduleNames = args.tiers.map((t) => `${veleroFullname(releaseName)}-${t.key}`);
        this.sourceLocation = args.mode === "protect" ? undefined : SOURCE_LOCATION;
        this.registerOutputs({
            namespace: this.namespace,
            releaseName: this.releaseName,
            serverServiceAccount: this.serverServiceAccount,
            scheduleNames: this.scheduleNames,
            sourceLocation: this.sourceLocation,
        });
    }
}
