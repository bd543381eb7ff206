/** The velero chart 12.1.0 values: everything they depend on, resolved to plain values, and the values. */
import { createHash } from "node:crypto";

import type { BackupTier, DataPathSettings, Mode, VolumeDataMode } from "../config";
import { ImagePin, imageReference, mirrorImage } from "../mirrors";
import { KUBECTL_IMAGE, VELERO_AWS_PLUGIN, VELERO_IMAGE } from "../versions";
import { alertRules } from "./alerts";
import { chartLocations } from "./locations";
import { pluginContainerName, serverServiceAccountName, veleroFullname } from "./names";
import { NODE_AGENT_CONFIGMAP_KEY, nodeAgentConfig } from "./node-agent";
import type { FileSystemBackupVolumeType } from "./volume-policy";

/** How the Velero pods get AWS credentials, resolved. */
export type VeleroCredentials =
    | { readonly mode: "irsa"; readonly roleArn: string }
    | { readonly mode: "podIdentity" }
    | {
          readonly mode: "staticKeys";
          readonly secretName: string;
          /** A hash of the access key id: a new key rolls the pods (CREDENTIALS_HASH_LABEL). */
          readonly keyHash: string;
      };

/** A bucket Velero reads, with its region and KMS key. */
export interface SourceStorage {
    readonly bucketName: string;
    readonly region: string;
    readonly kmsKeyArn: string;
}

/** Everything the chart values depend on, resolved to plain values. */
export interface VeleroValuesInput {
    readonly mode: Mode;
    readonly releaseName: string;
    readonly namespace: string;
    readonly volumeDataMode: VolumeDataMode;
    readonly awsPluginVersion: string;
    /** Images of further plugins (`veleroPlugins`), already pinned and mirrored as config requires. */
    readonly plugins?: readonly string[];
    readonly bucketName: string;
    readonly region: string;
    readonly kmsKeyArn: string;
    /** Prefix of the cluster's own backups (protect, recover). */
    readonly writePrefix?: string;
    /** Prefix restored from (recover, drill). */
    readonly sourcePrefix?: string;
    /** The bucket the source location reads when it is not the vault (`sourceReplica`). Defaults to the vault's. */
    readonly sourceStorage?: SourceStorage;
    readonly tiers: readonly BackupTier[];
    /** The credentials Schedule, whose backups are alerted on like the tiers'. */
    readonly credentialsScheduleName?: string;
    /** Namespaces excluded on top of {@link SYSTEM_NAMESPACES}, Velero's and Argo CD's. */
    readonly excludedNamespaces: readonly string[];
    readonly argoCdNamespace: string;
    readonly credentials: VeleroCredentials;
    readonly prometheusOperator: boolean;
    /** Include pods in backups so their hooks run. Defaults to `true` in the program's config. */
    readonly consistentBackups?: boolean;
    /**
     * Volume types backed up by file-system backup (volume-policy.ts); the node agent runs when there are any.
     * Defaults to none.
     */
    readonly fileSystemBackupVolumeTypes?: readonly FileSystemBackupVolumeType[];
    /** Node labels data-mover pods must run on. Defaults to none. */
    readonly dataMoverNodeLabels?: Readonly<Record<string, string>>;
    /** Loads per node and files per load (README "Recovery time"). Defaults to Velero's own (one load per node). */
    readonly dataPath?: DataPathSettings;
    /**
     * Extra labels on the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule, for a Prometheus whose
     * selectors require them (e.g. `release: kube-prometheus-stack`). Defaults to `{}`.
     */
    readonly monitoringLabels?: Readonly<Record<string, string>>;
    /** Registry every image is pulled from (`<registry>/<path without the public host>`). Defaults to none: public registries. */
    readonly imageRegistry?: string;
}

/**
 * Whether the node agent runs: the data mover moves snapshot data through it, and file-system backup reads and
 * writes volumes through it (velero `pkg/podvolume`, `pod_volume_restore_controller.go`), in every mode: a drill
 * restores file-system backups as well.
 */
export function runsNodeAgent(
    input: Pick<VeleroValuesInput, "volumeDataMode" | "fileSystemBackupVolumeTypes">,
): boolean {
    return input.volumeDataMode === "dataMover" || (input.fileSystemBackupVolumeTypes ?? []).length > 0;
}

/** The velero chart's `{ repository, tag, digest }` image values: with a digest, the chart pulls by digest. */
function chartImage(pin: ImagePin): Record<string, string> {
    return { repository: pin.repository, tag: pin.tag, ...(pin.digest === undefined ? {} : { digest: pin.digest }) };
}

/** Pod label of the node agent: a hash of its configuration, so that a change restarts it. */
export const NODE_AGENT_CONFIG_HASH_LABEL = "gitops-dr.io/node-agent-config";
/**
 * A label on the server's and the node agent's pods, with static keys: a hash of the access key id. The chart mounts
 * the credentials Secret (`existingSecret`) with no checksum of it on the pods (velero chart 12.1.0
 * templates/deployment.yaml, node-agent-daemonset.yaml), so a rotated key would otherwise reach the pods only when
 * the kubelet refreshes the mounted file, minutes later, while the old key is already deleted; with the label, a new
 * key rolls both, as a changed Deployment does.
 */
export const CREDENTIALS_HASH_LABEL = "gitops-dr.io/credentials";

/** The first 16 hex digits of a document's SHA-256: a valid label value that changes with the document. */
export const configHash = (document: string): string =>
    createHash("sha256").update(document).digest("hex").slice(0, 16);

/** The velero chart 12.1.0 values for a mode. Every key is one the chart's templates read. */
export function veleroValues(input: VeleroValuesInput): Record<string, unknown> {
    const fullname = veleroFullname(input.releaseName);
    const dataMover = input.volumeDataMode === "dataMover";
    const native = input.volumeDataMode === "nativeSnapshots";
    const nodeAgent = runsNodeAgent(input);
    const credentials = input.credentials;
    const monitoringLabels = input.monitoringLabels ?? {};
    let credentialValues: Record<string, unknown>;
    let credentialLabels: Record<string, string> = {};
    switch (credentials.mode) {
        case "irsa":
        case "podIdentity":
            // Both inject credentials into the pod; a credentials Secret would override them (velero #8240).
            credentialValues = { useSecret: false };
            break;
        case "staticKeys":
            credentialValues = { useSecret: true, existingSecret: credentials.secretName };
            credentialLabels = { [CREDENTIALS_HASH_LABEL]: credentials.keyHash };
            break;
        default: {
            const unreachable: never = credentials;
            throw new Error(`unhandled credentials ${JSON.stringify(unreachable)}`);
        }
    }

    const registry = input.imageRegistry;
    const nodeAgentDocument = JSON.stringify(nodeAgentConfig(input.dataMoverNodeLabels, input.dataPath));
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
            // Each plugin image copies its binary into the shared plugins volume, as the AWS one does.
            ...(input.plugins ?? []).map((image) => ({
                name: pluginContainerName(image),
                image,
                imagePullPolicy: "IfNotPresent",
                volumeMounts: [{ mountPath: "/target", name: "plugins" }],
            })),
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
        deployNodeAgent: nodeAgent,
        // Whenever the node agent runs: its load limit governs file-system backups and restores as it does the
        // data mover's (velero v1.18.1 pkg/cmd/cli/nodeagent/server.go, one data-path manager for all of them).
        nodeAgent: nodeAgent
            ? {
                  extraArgs: [`--node-agent-configmap=${fullname}-${NODE_AGENT_CONFIGMAP_KEY}`],
                  // The node agent reads its ConfigMap only when it starts (velero v1.18.1
                  // pkg/cmd/cli/nodeagent/server.go `getDataPathConfigs`): a label of the document's hash on its
                  // pods makes a changed configuration roll the DaemonSet, as a changed concurrency must.
                  podLabels: { [NODE_AGENT_CONFIG_HASH_LABEL]: configHash(nodeAgentDocument), ...credentialLabels },
              }
            : {},
        configMaps: nodeAgent
            ? { [NODE_AGENT_CONFIGMAP_KEY]: { data: { "node-agent-config.json": nodeAgentDocument } } }
            : {},
        credentials: credentialValues,
        podLabels: credentialLabels,
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
                enabled: input.prometheusOperator && nodeAgent,
                autodetect: false,
                additionalLabels: { ...monitoringLabels },
            },
            prometheusRule: {
                enabled: input.prometheusOperator,
                autodetect: false,
                additionalLabels: { ...monitoringLabels },
                // The chart wraps this list in one rule group (alerts.ts alertRuleGroup) and renders no
                // PrometheusRule when it is empty.
                spec: input.prometheusOperator
                    ? alertRules([
                          ...input.tiers.map((t) => t.name),
                          ...(input.credentialsScheduleName === undefined ? [] : [input.credentialsScheduleName]),
                      ])
                    : [],
            },
        },
    };
}
