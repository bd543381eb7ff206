import * as assert from "node:assert/strict";

import { alertRules } from "../components/velero";
import { veleroFullname, veleroValues, VeleroValuesInput } from "../components/velero";
import { VELERO_AWS_PLUGIN, VELERO_CHART, VELERO_IMAGE } from "../components/versions";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

/**
 * Value paths the velero chart 12.1.0 reads (from its values.yaml and templates, vmware-tanzu/helm-charts
 * charts/velero at 73466ca9). Helm silently ignores any other key, so every path the program sets must be here.
 * A path ending in [] is a list whose items are objects with the listed item keys.
 */
const CHART_PATHS = new Set([
    "image.repository",
    "image.tag",
    "image.digest",
    // templates cleanup-crds.yaml and label-namespace/labelnamespace.yaml
    "kubectl.image.repository",
    "kubectl.image.tag",
    "kubectl.image.digest",
    "initContainers",
    "upgradeCRDs",
    "cleanUpCRDs",
    "configuration.backupStorageLocation",
    "configuration.backupStorageLocation[].name",
    "configuration.backupStorageLocation[].provider",
    "configuration.backupStorageLocation[].bucket",
    "configuration.backupStorageLocation[].prefix",
    "configuration.backupStorageLocation[].default",
    "configuration.backupStorageLocation[].accessMode",
    "configuration.backupStorageLocation[].config",
    "configuration.volumeSnapshotLocation",
    "configuration.volumeSnapshotLocation[].name",
    "configuration.volumeSnapshotLocation[].provider",
    "configuration.volumeSnapshotLocation[].config",
    "configuration.features",
    "configuration.defaultSnapshotMoveData",
    "configuration.uploaderType",
    "backupsEnabled",
    "snapshotsEnabled",
    "deployNodeAgent",
    "nodeAgent.extraArgs",
    "nodeAgent.podLabels",
    // templates/deployment.yaml: the server's pod template labels (values.yaml "Additional pod labels")
    "podLabels",
    "configMaps",
    "credentials.useSecret",
    "credentials.existingSecret",
    "serviceAccount.server.create",
    "serviceAccount.server.name",
    "serviceAccount.server.annotations",
    "schedules",
    "metrics.enabled",
    "metrics.serviceMonitor.enabled",
    "metrics.serviceMonitor.autodetect",
    "metrics.serviceMonitor.additionalLabels",
    "metrics.nodeAgentPodMonitor.enabled",
    "metrics.nodeAgentPodMonitor.autodetect",
    "metrics.nodeAgentPodMonitor.additionalLabels",
    "metrics.prometheusRule.enabled",
    "metrics.prometheusRule.autodetect",
    "metrics.prometheusRule.additionalLabels",
    "metrics.prometheusRule.spec",
]);
/** Maps whose keys are the user's (schedule names, ConfigMap names, annotations): not descended into. */
const FREE_FORM = new Set([
    "initContainers",
    "configMaps",
    "schedules",
    "serviceAccount.server.annotations",
    "configuration.backupStorageLocation[].config",
    "configuration.volumeSnapshotLocation[].config",
    "metrics.prometheusRule.spec",
    "metrics.serviceMonitor.additionalLabels",
    "metrics.nodeAgentPodMonitor.additionalLabels",
    "metrics.prometheusRule.additionalLabels",
    "nodeAgent.extraArgs",
    "nodeAgent.podLabels",
    "podLabels",
]);

/** Every leaf path of a values object, in the notation of CHART_PATHS. */
function valuePaths(value: unknown, at = ""): string[] {
    if (FREE_FORM.has(at)) {
        return [at];
    }
    if (Array.isArray(value)) {
        return value.length === 0 ? [at] : value.flatMap((item) => valuePaths(item, `${at}[]`));
    }
    if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
        return Object.entries(value).flatMap(([k, v]) => valuePaths(v, at === "" ? k : `${at}.${k}`));
    }
    return [at];
}

/**
 * Schedule CRD fields and types (velero 1.18 `schedules.yaml`: spec.schedule, spec.template, ...). The chart
 * copies each `schedules.<key>` entry's fields into the Schedule's spec; an unknown field is pruned.
 */
const SCHEDULE_SPEC_TYPES: Record<string, string> = {
    schedule: "string",
    paused: "boolean",
    skipImmediately: "boolean",
    useOwnerReferencesInBackup: "boolean",
    template: "object",
};
const BACKUP_TEMPLATE_TYPES: Record<string, string> = {
    ttl: "string",
    storageLocation: "string",
    includedResources: "string[]",
    includeClusterResources: "boolean",
    includedNamespaces: "string[]",
    excludedNamespaces: "string[]",
    labelSelector: "object",
    orLabelSelectors: "array",
    resourcePolicy: "object",
    snapshotVolumes: "boolean",
    snapshotMoveData: "boolean",
    defaultVolumesToFsBackup: "boolean",
    volumeSnapshotLocations: "string[]",
    itemOperationTimeout: "string",
    csiSnapshotTimeout: "string",
    uploaderConfig: "object",
};
const typeOf = (v: unknown) =>
    Array.isArray(v) ? (v.every((x) => typeof x === "string") ? "string[]" : "array") : typeof v;

const runs = {
    protect: () => runProgram({ stack: "prod", secrets: STACK_SECRETS }),
    recover: () =>
        runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        }),
    drill: () => runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES }),
};
type Values = Record<string, unknown> & {
    configuration: { backupStorageLocation: Record<string, unknown>[] } & Record<string, unknown>;
    schedules: Record<string, { schedule: string; template: Record<string, unknown> } & Record<string, unknown>>;
};
const valuesOf = (release: RegisteredResource) => release.inputs.values as Values;
/** The Velero release of a run (Argo CD is another release). */
const veleroRelease = (run: ProgramRun) => {
    const found = run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "velero");
    assert.equal(found.length, 1, "one Velero release");
    return found[0];
};

describe("Velero", () => {
    const results: Partial<Record<keyof typeof runs, ProgramRun>> = {};
    before(async () => {
        for (const mode of ["protect", "recover", "drill"] as const) {
            results[mode] = await runs[mode]();
        }
    });
    const release = (mode: keyof typeof runs) => veleroRelease(results[mode]!);
    const schedules = (run: ProgramRun) => run.ofType("kubernetes:velero.io/v1:Schedule");
    const specOf = (r: RegisteredResource) =>
        r.inputs.spec as { schedule: string; template: Record<string, unknown> } & Record<string, unknown>;

    it("installs the pinned chart with an explicit release name and namespace", () => {
        const r = release("protect");
        assert.equal(r.inputs.chart, "velero");
        assert.equal(r.inputs.version, "12.1.0");
        assert.equal(VELERO_CHART.version, "12.1.0");
        assert.deepEqual(r.inputs.repositoryOpts, { repo: "https://vmware-tanzu.github.io/helm-charts" });
        assert.equal(r.inputs.name, "velero");
        assert.equal(r.inputs.namespace, "velero");
        assert.equal(r.inputs.createNamespace, false);
        assert.equal(r.inputs.atomic, false);
        assert.equal(r.inputs.waitForJobs, true);
    });

    it("pins the Velero image and the AWS plugin on the line that pairs with Velero 1.18", () => {
        const values = valuesOf(release("protect"));
        assert.deepEqual(values.image, { repository: "docker.io/velero/velero", tag: VELERO_IMAGE.tag });
        assert.equal(VELERO_IMAGE.tag, "v1.18.1");
        assert.deepEqual(values.initContainers, [
            {
                name: "velero-plugin-for-aws",
                image: `docker.io/velero/velero-plugin-for-aws:${VELERO_AWS_PLUGIN.tag}`,
                imagePullPolicy: "IfNotPresent",
                volumeMounts: [{ mountPath: "/target", name: "plugins" }],
            },
        ]);
        assert.match(VELERO_AWS_PLUGIN.tag, /^v1\.14\.\d+$/);
    });

    for (const mode of ["protect", "recover", "drill"] as const) {
        it(`${mode}: every values path is one the chart reads`, () => {
            const unknown = valuePaths(valuesOf(release(mode))).filter((p) => !CHART_PATHS.has(p));
            assert.deepEqual(unknown, []);
        });
    }

    it("protect: one ReadWrite default location on the cluster's prefix, with the vault key and no checksum override", () => {
        assert.deepEqual(valuesOf(release("protect")).configuration.backupStorageLocation, [
            {
                name: "default",
                provider: "aws",
                bucket: "acme-gitops-dr-vault",
                prefix: "prod-eu-1",
                default: true,
                accessMode: "ReadWrite",
                config: {
                    region: "eu-west-1",
                    kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/gitops-dr-prod-vault-key-id",
                },
            },
        ]);
    });

    it("recover: reads the lost cluster's prefix read-only and writes only to its own", () => {
        const run = results.recover!;
        const chart = valuesOf(release("recover")).configuration.backupStorageLocation;
        assert.deepEqual(
            chart.map((l) => [l.name, l.prefix, l.accessMode, l.default]),
            [["default", "prod-eu-2", "ReadWrite", true]],
        );
        const source = run.one("kubernetes:velero.io/v1:BackupStorageLocation");
        assert.deepEqual(source.inputs.spec, {
            provider: "aws",
            objectStorage: { bucket: "acme-gitops-dr-vault", prefix: "prod-eu-1" },
            config: { region: "eu-west-1", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/prod-vault-key" },
            accessMode: "ReadOnly",
            default: false,
        });
        assert.equal((source.inputs.metadata as Record<string, unknown>).name, "source");
        for (const schedule of schedules(run)) {
            assert.equal(specOf(schedule).template.storageLocation, "default");
        }
    });

    it("drill: only a read-only location, created by the program as the sync barrier, and no schedule", () => {
        const run = results.drill!;
        assert.deepEqual(valuesOf(release("drill")).configuration.backupStorageLocation, []);
        const source = run.one("kubernetes:velero.io/v1:BackupStorageLocation");
        const spec = source.inputs.spec as Record<string, unknown>;
        assert.deepEqual(
            [spec.accessMode, spec.default, (spec.objectStorage as Record<string, unknown>).prefix],
            ["ReadOnly", true, "prod-eu-1"],
        );
        assert.deepEqual(valuesOf(release("drill")).schedules, {});
        assert.deepEqual(schedules(run), []);
        assert.deepEqual(run.outputs.veleroScheduleNames, []);
    });

    it("the source location's create waits until it is Available and synced", () => {
        for (const mode of ["recover", "drill"] as const) {
            const run = results[mode]!;
            const source = run.one("kubernetes:velero.io/v1:BackupStorageLocation");
            const annotations = (source.inputs.metadata as { annotations: Record<string, string> }).annotations;
            assert.deepEqual(JSON.parse(annotations["pulumi.com/waitFor"]), [
                "jsonpath={.status.phase}=Available",
                "jsonpath={.status.lastSyncedTime}",
            ]);
            assert.ok(run.dependsOn(source, release(mode)), "after the Velero release (CRDs, server)");
            assert.deepEqual(source.customTimeouts, { create: "20m", update: "20m", delete: undefined });
        }
    });

    it("schedules the daily backup of PVs, PVCs, Secrets and ServiceAccounts with the data mover, outside system namespaces", () => {
        const run = results.protect!;
        assert.deepEqual(valuesOf(release("protect")).schedules, {});
        const daily = run.schedule();
        assert.deepEqual(daily.inputs.metadata, { name: "prod-eu-1-daily", namespace: "velero", annotations: {} });
        assert.deepEqual(daily.inputs.spec, {
            schedule: "0 2 * * *",
            useOwnerReferencesInBackup: false,
            template: {
                ttl: "720h",
                storageLocation: "default",
                includedResources: [
                    "persistentvolumes",
                    "persistentvolumeclaims",
                    "secrets",
                    "serviceaccounts",
                    "pods",
                ],
                includeClusterResources: true,
                excludedNamespaces: [
                    "kube-system",
                    "kube-public",
                    "kube-node-lease",
                    "velero",
                    "argocd",
                    // The weekly verification's scratch namespaces (components/verify), as a glob.
                    "gdr-verify-*",
                ],
                labelSelector: {
                    matchExpressions: [
                        { key: "owner", operator: "NotIn", values: ["helm"] },
                        { key: "sealedsecrets.bitnami.com/sealed-secrets-key", operator: "DoesNotExist" },
                    ],
                },
                snapshotVolumes: true,
                snapshotMoveData: true,
                defaultVolumesToFsBackup: false,
                resourcePolicy: { kind: "configmap", name: "gitops-dr-volume-policy" },
                // gitops-dr:backupParallelFiles's default (components/config/keys.ts).
                uploaderConfig: { parallelFilesUpload: 8 },
            },
        });
        assert.ok(run.dependsOn(daily, release("protect")), "a Schedule needs the CRDs and the server");
        assert.deepEqual(run.outputs.veleroScheduleNames, ["prod-eu-1-daily"]);
        assert.equal(run.outputs.dailyScheduleName, "prod-eu-1-daily");
    });

    it("schedules have the Schedule CRD's fields with the CRD's types", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { weeklyBackupTtl: "744h", monthlyBackupTtl: "744h", volumeDataMode: "nativeSnapshots" },
        });
        const byName = new Map(schedules(run).map((r) => [(r.inputs.metadata as { name: string }).name, specOf(r)]));
        assert.deepEqual([...byName.keys()].sort(), [
            "prod-eu-1-credentials",
            "prod-eu-1-daily",
            "prod-eu-1-monthly",
            "prod-eu-1-weekly",
        ]);
        for (const [key, schedule] of byName) {
            for (const [field, value] of Object.entries(schedule)) {
                assert.equal(typeOf(value), SCHEDULE_SPEC_TYPES[field], `${key}.${field}`);
            }
            for (const [field, value] of Object.entries(schedule.template)) {
                assert.equal(typeOf(value), BACKUP_TEMPLATE_TYPES[field], `${key}.template.${field}`);
            }
        }
        assert.deepEqual(
            [byName.get("prod-eu-1-weekly")!.schedule, byName.get("prod-eu-1-weekly")!.template.ttl],
            ["0 3 * * 0", "744h"],
        );
        assert.deepEqual(
            [byName.get("prod-eu-1-monthly")!.schedule, byName.get("prod-eu-1-monthly")!.template.ttl],
            ["0 4 1 * *", "744h"],
        );
        assert.deepEqual(run.outputs.veleroScheduleNames, ["prod-eu-1-daily", "prod-eu-1-weekly", "prod-eu-1-monthly"]);
    });

    it("adds configured namespaces to the exclusions", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { excludedNamespaces: ["scratch", "ci"] },
        });
        const template = specOf(run.schedule()).template;
        assert.deepEqual(template.excludedNamespaces, [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "velero",
            "argocd",
            "scratch",
            "ci",
            "gdr-verify-*",
        ]);
    });

    it("data mover: CSI feature, node agent, and restored claims bound without waiting for a consumer", () => {
        const values = valuesOf(release("protect")) as Values & Record<string, Record<string, unknown>>;
        assert.equal(values.configuration.features, "EnableCSI");
        assert.equal(values.configuration.defaultSnapshotMoveData, true);
        assert.equal(values.deployNodeAgent, true);
        assert.equal(values.snapshotsEnabled, false);
        const nodeAgent = values.nodeAgent as { extraArgs: string[]; podLabels: Record<string, string> };
        assert.deepEqual(nodeAgent.extraArgs, ["--node-agent-configmap=velero-node-agent-config"]);
        assert.deepEqual(Object.keys(nodeAgent.podLabels), ["gitops-dr.io/node-agent-config"]);
        assert.match(nodeAgent.podLabels["gitops-dr.io/node-agent-config"], /^[0-9a-f]{16}$/);
        // The chart names a configMaps entry <fullname>-<key>: velero-node-agent-config, the one the flag names.
        // Two loads per node: gitops-dr:dataMoverConcurrency's default.
        assert.deepEqual(values.configMaps, {
            "node-agent-config": {
                data: {
                    "node-agent-config.json":
                        '{"loadConcurrency":{"globalConfig":2},"restorePVC":{"ignoreDelayBinding":true}}',
                },
            },
        });
    });

    it("native snapshots, file-system backup off: a volume snapshot location, no node agent, no data movement", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { volumeDataMode: "nativeSnapshots", fileSystemBackupVolumeTypes: [] },
        });
        const values = valuesOf(veleroRelease(run));
        assert.deepEqual((values.configuration as unknown as Record<string, unknown>).volumeSnapshotLocation, [
            { name: "default", provider: "aws", config: { region: "eu-west-1" } },
        ]);
        assert.equal(values.snapshotsEnabled, true);
        assert.equal(values.deployNodeAgent, false);
        const template = specOf(run.schedule()).template;
        assert.equal(template.snapshotMoveData, false);
        assert.deepEqual(template.volumeSnapshotLocations, ["default"]);
    });

    it("IRSA: role annotation on the server service account and no credentials Secret", () => {
        const values = valuesOf(release("protect"));
        assert.deepEqual(values.credentials, { useSecret: false });
        assert.deepEqual(values.serviceAccount, {
            server: {
                create: true,
                name: "velero-server",
                annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/prod-eu-1-velero" },
            },
        });
    });

    it("static keys: the chart mounts the Secret this stack creates", async () => {
        const run = await runProgram({
            stack: "prod",
            config: { credentialsMode: "staticKeys", oidcProviderArn: null },
            secrets: { ...STACK_SECRETS, awsAccessKeyId: "AKIAEXAMPLE", awsSecretAccessKey: "secret" },
        });
        const r = veleroRelease(run);
        assert.deepEqual((r.inputs.values as Record<string, unknown>).credentials, {
            useSecret: true,
            existingSecret: "velero-cloud-credentials",
        });
        assert.ok(
            r.dependencies.includes(
                run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-cloud-credentials").urn,
            ),
        );
    });

    it("the repository password is ours, secret, and in place before Velero starts", () => {
        const run = results.protect!;
        const secret = run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-repo-credentials");
        assert.deepEqual((secret.inputs.metadata as Record<string, unknown>).name, "velero-repo-credentials");
        assert.deepEqual(secret.inputs.stringData, { "repository-password": STACK_SECRETS.repoPassword });
        assert.ok(secret.secretPaths.length > 0);
        assert.ok(run.dependsOn(release("protect"), secret));
        assert.ok(!JSON.stringify(run.outputs).includes(STACK_SECRETS.repoPassword));
    });

    it("every Kubernetes object names the stack's Kubernetes provider", () => {
        for (const mode of ["protect", "recover", "drill"] as const) {
            const run = results[mode]!;
            const k8sObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8sObjects.length >= 3);
            for (const r of k8sObjects) {
                assert.equal(run.byUrn(r.provider!).type, "pulumi:providers:kubernetes", r.name);
            }
        }
    });

    it("a rebuilt cluster adopts objects Velero restored instead of failing on AlreadyExists", () => {
        assert.equal(results.recover!.one("pulumi:providers:kubernetes").inputs.upsertExistingObjects, "true");
        assert.equal(results.drill!.one("pulumi:providers:kubernetes").inputs.upsertExistingObjects, "true");
        assert.equal(results.protect!.one("pulumi:providers:kubernetes").inputs.upsertExistingObjects, "false");
    });

    it("with the Prometheus operator: ServiceMonitor, PodMonitor and the alert rules", async () => {
        const values = valuesOf(release("protect")) as Values & Record<string, Record<string, unknown>>;
        assert.deepEqual(values.metrics, {
            enabled: true,
            serviceMonitor: {
                enabled: true,
                autodetect: false,
                additionalLabels: { release: "kube-prometheus-stack" },
            },
            nodeAgentPodMonitor: {
                enabled: true,
                autodetect: false,
                additionalLabels: { release: "kube-prometheus-stack" },
            },
            prometheusRule: {
                enabled: true,
                autodetect: false,
                additionalLabels: { release: "kube-prometheus-stack" },
                spec: alertRules(["prod-eu-1-daily", "prod-eu-1-credentials"]),
            },
        });
        const off = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { prometheusOperator: false, monitoringLabels: null },
        });
        const offMetrics = (veleroRelease(off).inputs.values as Record<string, Record<string, unknown>>).metrics;
        assert.deepEqual(offMetrics.prometheusRule, {
            enabled: false,
            autodetect: false,
            additionalLabels: {},
            spec: [],
        });
    });

    it("release names follow the chart's fullname rule", () => {
        assert.equal(veleroFullname("velero"), "velero");
        assert.equal(veleroFullname("backup"), "backup-velero");
        const input: VeleroValuesInput = {
            mode: "protect",
            releaseName: "backup",
            namespace: "velero",
            volumeDataMode: "dataMover",
            awsPluginVersion: "v1.14.2",
            bucketName: "b",
            region: "eu-west-1",
            kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k",
            writePrefix: "p",
            tiers: [],
            excludedNamespaces: [],
            argoCdNamespace: "argocd",
            credentials: { mode: "podIdentity" },
            prometheusOperator: false,
        };
        const values = veleroValues(input) as Record<string, Record<string, unknown>>;
        assert.deepEqual(values.nodeAgent.extraArgs, ["--node-agent-configmap=backup-velero-node-agent-config"]);
        assert.equal((values.serviceAccount.server as Record<string, unknown>).name, "backup-velero-server");
    });
});

describe("Velero alerts", () => {
    const rules = alertRules(["prod-eu-1-daily", "prod-eu-1-weekly"]);
    const byAlert = (name: string) => rules.filter((r) => r.alert === name);

    it("uses only metrics Velero exports (pkg/metrics/metrics.go)", () => {
        const exported = new Set([
            "velero_backup_failure_total",
            "velero_backup_partial_failure_total",
            // backupWarningTotal: metricNamespace "velero" + "backup_warning_total"
            "velero_backup_warning_total",
            "velero_backup_last_successful_timestamp",
            "velero_backup_attempt_total",
            "velero_backup_location_status_gauge",
            "velero_restore_failed_total",
            "velero_restore_partial_failure_total",
            "velero_restore_validation_failed_total",
        ]);
        for (const rule of rules) {
            const metrics = String(rule.expr).match(/velero_[a-z_]+/g) ?? [];
            assert.ok(metrics.length > 0, String(rule.alert));
            for (const m of metrics) {
                assert.ok(exported.has(m), `${String(rule.alert)} uses ${m}`);
            }
        }
    });

    it("covers failed, partially failed, warned, 25 hours without success, and an unavailable location", () => {
        assert.deepEqual(
            [...new Set(rules.map((r) => r.alert))],
            [
                "VeleroBackupFailed",
                "VeleroBackupPartiallyFailed",
                "VeleroBackupWarnings",
                "VeleroNoRecentBackup",
                "VeleroScheduleNeverSucceeded",
                "VeleroBackupLocationUnavailable",
                "VeleroRestoreFailed",
                "VeleroRestorePartiallyFailed",
                "VeleroRestoreValidationFailed",
            ],
        );
        assert.match(
            String(byAlert("VeleroBackupFailed")[0].expr),
            /velero_backup_failure_total\{schedule=~"prod-eu-1-daily\|prod-eu-1-weekly"\}/,
        );
        assert.match(String(byAlert("VeleroBackupPartiallyFailed")[0].expr), /velero_backup_partial_failure_total/);
        assert.match(
            String(byAlert("VeleroBackupWarnings")[0].expr),
            /velero_backup_warning_total\{schedule=~"prod-eu-1-daily\|prod-eu-1-weekly"\}/,
        );
        assert.match(
            String(byAlert("VeleroBackupLocationUnavailable")[0].expr),
            /velero_backup_location_status_gauge == 0/,
        );
    });

    it("no-recent-backup does not fire in a cluster with no schedule: no absent(), and the never-succeeded case waits 25h", () => {
        const [stale] = byAlert("VeleroNoRecentBackup");
        const [never] = byAlert("VeleroScheduleNeverSucceeded");
        assert.ok(rules.every((r) => !String(r.expr).includes("absent(")));
        assert.match(
            String(stale.expr),
            /time\(\) - velero_backup_last_successful_timestamp\{schedule=~"prod-eu-1-daily\|prod-eu-1-weekly"\}\) > 25 \* 3600/,
        );
        // A schedule's counters exist from its creation; with no schedule there is no series, so no alert.
        assert.match(
            String(never.expr),
            /velero_backup_attempt_total\{schedule=~"prod-eu-1-daily\|prod-eu-1-weekly"\} unless on \(schedule\) velero_backup_last_successful_timestamp/,
        );
        assert.equal(never.for, "25h");
    });

    it("backup alerts concern the cluster's own Schedules only; a cluster without any (a drill) gets none", () => {
        for (const rule of rules.filter((r) => r.expr.includes("velero_backup_") && !r.expr.includes("location"))) {
            assert.match(rule.expr, /schedule=~"prod-eu-1-daily\|prod-eu-1-weekly"/, rule.alert);
        }
        const drill = alertRules([]).map((r) => r.alert);
        assert.deepEqual(drill, [
            "VeleroBackupLocationUnavailable",
            "VeleroRestoreFailed",
            "VeleroRestorePartiallyFailed",
            "VeleroRestoreValidationFailed",
        ]);
    });
});
