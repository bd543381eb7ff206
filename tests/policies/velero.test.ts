import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import type { PackConfig } from "../../policies/gate/evaluate";
import { veleroAlertsDeployed } from "../../policies/rules/velero-alerts-deployed";
import { veleroCredentialsBackedUp } from "../../policies/rules/velero-credentials-backed-up";
import { veleroDrillReadOnly } from "../../policies/rules/velero-drill-read-only";
import { veleroNoPlaintextCredentials } from "../../policies/rules/velero-no-plaintext-credentials";
import { veleroRecoverSourceReadOnly } from "../../policies/rules/velero-recover-source-read-only";
import { veleroReleaseVersionsPinned } from "../../policies/rules/velero-release-versions-pinned";
import { veleroRepositoryPassword } from "../../policies/rules/velero-repository-password";
import { veleroScheduleExcludedNamespaces } from "../../policies/rules/velero-schedule-excluded-namespaces";
import { veleroScheduleFrequency } from "../../policies/rules/velero-schedule-frequency";
import { veleroScheduleResources } from "../../policies/rules/velero-schedule-resources";
import { veleroScheduleTtlWithinLock } from "../../policies/rules/velero-schedule-ttl-within-lock";
import { veleroScheduleVolumeData } from "../../policies/rules/velero-schedule-volume-data";
import {
    FIXTURE_TYPES,
    FixtureResource,
    FixtureStack,
    N,
    REPO_PASSWORD,
    compliantStack,
    scheduleTemplate,
    violationsOf,
} from "../../policies/testing/stack";

const protect = compliantStack("protect");
const recover = compliantStack("recover");
const drill = compliantStack("drill");

async function messages(stack: FixtureStack, policy: Policy, config: PackConfig = {}): Promise<string[]> {
    return (await violationsOf(stack, policy, config)).map((v) => v.message);
}

/** Sets a value at a path of a resource's props, creating objects on the way. */
function setPath(r: FixtureResource, path: (string | number)[], value: unknown): void {
    let node = r.props as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) {
        node[key] ??= {};
        node = node[key] as Record<string | number, unknown>;
    }
    node[path[path.length - 1]] = value;
}

function deletePath(r: FixtureResource, path: (string | number)[]): void {
    let node = r.props as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) {
        node = node[key] as Record<string | number, unknown>;
    }
    delete node[path[path.length - 1]];
}

const onSchedule = (stack: FixtureStack, path: (string | number)[], value: unknown) =>
    stack.with(N.schedule, (r) => setPath(r, ["spec", ...path], value));
const onTemplate = (stack: FixtureStack, key: string, value: unknown) => onSchedule(stack, ["template", key], value);
const onVelero = (stack: FixtureStack, path: (string | number)[], value: unknown) =>
    stack.with(N.velero, (r) => setPath(r, ["values", ...path], value));
const daily = "schedule prod-eu-1-daily (Schedule velero-schedule-daily)";

describe("policy velero-release-versions-pinned", () => {
    const must =
        "Velero's chart, image and plugins must be pinned to exact versions, so that only a reviewed change can change them.";
    const pluginFix =
        'Pin the plugin image to an exact tag (gitops-dr:awsPluginVersion, e.g. "v1.14.2") or a sha256 digest.';

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroReleaseVersionsPinned), []);
        }
    });

    it("reports a chart version range", async () => {
        const stack = protect.with(N.velero, (r) => (r.props.version = "^12.1.0"));
        assert.deepEqual(await messages(stack, veleroReleaseVersionsPinned), [
            `${must} Found: Release velero-release has chart version "^12.1.0". Fix: Set the release's version to an exact chart version such as "12.1.0" (components/versions.ts VELERO_CHART).`,
        ]);
    });

    it("reports a release without a chart version", async () => {
        const stack = protect.with(N.velero, (r) => delete r.props.version);
        assert.deepEqual(await messages(stack, veleroReleaseVersionsPinned), [
            `${must} Found: Release velero-release sets no chart version. Fix: Set the release's version to an exact chart version such as "12.1.0" (components/versions.ts VELERO_CHART).`,
        ]);
    });

    it("reports the latest image tag, and accepts an unset tag (the exact chart version pins its appVersion) or a digest", async () => {
        assert.deepEqual(await messages(onVelero(protect, ["image", "tag"], "latest"), veleroReleaseVersionsPinned), [
            `${must} Found: Release velero-release values image.tag is "latest". Fix: Set image.tag to an exact release tag such as "v1.18.1" (components/versions.ts VELERO_IMAGE), or image.digest.`,
        ]);
        assert.deepEqual(
            await messages(
                protect.with(N.velero, (r) => deletePath(r, ["values", "image", "tag"])),
                veleroReleaseVersionsPinned,
            ),
            [],
        );
        assert.deepEqual(
            await messages(
                onVelero(
                    onVelero(protect, ["image", "tag"], "latest"),
                    ["image", "digest"],
                    `sha256:${"a".repeat(64)}`,
                ),
                veleroReleaseVersionsPinned,
            ),
            [],
        );
    });

    it("reports a plugin image without a tag or with a minor-line tag", async () => {
        assert.deepEqual(
            await messages(
                onVelero(protect, ["initContainers", 0, "image"], "docker.io/velero/velero-plugin-for-aws"),
                veleroReleaseVersionsPinned,
            ),
            [
                `${must} Found: Release velero-release values initContainers[0].image is "docker.io/velero/velero-plugin-for-aws". Fix: ${pluginFix}`,
            ],
        );
        assert.deepEqual(
            await messages(
                onVelero(protect, ["initContainers", 0, "image"], "registry:5000/velero/velero-plugin-for-aws:v1.14"),
                veleroReleaseVersionsPinned,
            ),
            [
                `${must} Found: Release velero-release values initContainers[0].image is "registry:5000/velero/velero-plugin-for-aws:v1.14". Fix: ${pluginFix}`,
            ],
        );
        assert.deepEqual(
            await messages(
                onVelero(
                    protect,
                    ["initContainers", 0, "image"],
                    `docker.io/velero/velero-plugin-for-aws@sha256:${"b".repeat(64)}`,
                ),
                veleroReleaseVersionsPinned,
            ),
            [],
        );
    });

    it("judges only the velero chart", async () => {
        const stack = protect.with(N.argocd, (r) => (r.props.version = ">=10"));
        assert.deepEqual(await messages(stack, veleroReleaseVersionsPinned), []);
    });
});

describe("policy velero-repository-password", () => {
    const must =
        "Velero's kopia repository password must be the stack's own, in a velero-repo-credentials Secret that exists before Velero starts; without it Velero creates the Secret with its public default password, which can only be changed before the first backup.";
    const missing = `${must} Found: no Secret velero-repo-credentials in namespace velero for Release velero-release. Fix: Set gitops-dr:repoPassword with pulumi config set --secret so the stack creates the Secret, and keep a copy outside the cluster.`;

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroRepositoryPassword), []);
        }
    });

    it("reports a missing Secret, or one in another namespace", async () => {
        assert.deepEqual(await messages(protect.without(N.repoSecret), veleroRepositoryPassword), [missing]);
        assert.deepEqual(
            await messages(
                protect.with(N.repoSecret, (r) => setPath(r, ["metadata", "namespace"], "default")),
                veleroRepositoryPassword,
            ),
            [missing],
        );
    });

    it("reports a Secret without the password key", async () => {
        const stack = protect.with(N.repoSecret, (r) => (r.props.stringData = {}));
        assert.deepEqual(await messages(stack, veleroRepositoryPassword), [
            `${must} Found: Secret velero-repo-credentials has no repository-password. Fix: Put the password under stringData["repository-password"] (gitops-dr:repoPassword).`,
        ]);
    });

    it("reports Velero's default password, also base64 in data", async () => {
        const stack = protect.with(N.repoSecret, (r) => {
            delete r.props.stringData;
            r.props.data = { "repository-password": Buffer.from("static-passw0rd").toString("base64") };
        });
        assert.deepEqual(await messages(stack, veleroRepositoryPassword), [
            `${must} Found: Secret velero-repo-credentials holds Velero's default password. Fix: Set gitops-dr:repoPassword to a generated secret, e.g. "$(openssl rand -base64 32)", before the first backup.`,
        ]);
    });

    it("reports a release that does not wait for the Secret", async () => {
        const stack = protect.with(
            N.velero,
            (r) => (r.dependencies = r.dependencies.filter((d) => !d.includes("velero-repo-credentials"))),
        );
        assert.deepEqual(await messages(stack, veleroRepositoryPassword), [
            `${must} Found: Release velero-release does not wait for Secret velero-repo-credentials. Fix: Make the Velero release depend on the Secret (dependsOn), so Velero never starts without it.`,
        ]);
    });
});

describe("policy velero-no-plaintext-credentials", () => {
    const must =
        "AWS keys, the repository password and other credentials (private keys, git tokens) must only appear in Kubernetes Secret data, which Pulumi keeps encrypted; anywhere else they are stored and displayed in plain text.";
    const fix =
        "Keep it in a Kubernetes Secret's stringData, set from pulumi config set --secret (gitops-dr:awsAccessKeyId, gitops-dr:awsSecretAccessKey, gitops-dr:repoPassword, gitops-dr:gitPassword, gitops-dr:gitSshPrivateKey), and reference the Secret (credentials.existingSecret for the AWS keys).";
    const cloudFile =
        "[default]\naws_access_key_id=AKIAIOSFODNN7EXAMPLE\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

    it("passes the compliant stacks, whose password is only in the Secret", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), []);
        }
    });

    it("accepts AWS keys in a Secret's stringData (static keys)", async () => {
        const stack = protect.add(FIXTURE_TYPES.secret, "cloud-credentials", {
            metadata: { name: "velero-cloud-credentials", namespace: "velero" },
            stringData: { cloud: cloudFile },
        });
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), []);
    });

    it("reports AWS keys in Helm values", async () => {
        const stack = onVelero(protect, ["credentials"], { useSecret: true, secretContents: { cloud: cloudFile } });
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), [
            `${must} Found: an AWS access key id in Release velero-release at values.credentials.secretContents.cloud. Fix: ${fix}`,
        ]);
    });

    for (const [what, value] of [
        ["a git hosting token", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"],
        ["credentials in a URL", "https://git:hunter2-not-a-token@github.com/acme/platform-gitops.git"],
        [
            "a PEM private key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        ],
        ["the repository password, base64-encoded", Buffer.from(REPO_PASSWORD, "utf8").toString("base64")],
    ] as const) {
        it(`reports ${what} in an Application or a ConfigMap`, async () => {
            const stack = protect.add("kubernetes:core/v1:ConfigMap", "leak", {
                metadata: { name: "leak", namespace: "argocd" },
                data: { value },
            });
            assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), [
                `${must} Found: ${what} in ConfigMap leak at data.value. Fix: ${fix}`,
            ]);
        });
    }

    it("accepts an ssh git URL, which names only the ssh user", async () => {
        const stack = protect.add("kubernetes:core/v1:ConfigMap", "repo", {
            metadata: { name: "repo", namespace: "argocd" },
            data: { url: "git@github.com:acme/platform-gitops.git", other: "ssh://git@github.com/acme/x.git" },
        });
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), []);
    });

    it("reports a secret access key in a ConfigMap", async () => {
        const stack = protect.add("kubernetes:core/v1:ConfigMap", "aws-env", {
            metadata: { name: "aws-env" },
            data: { AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
        });
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), [
            `${must} Found: an AWS secret access key in ConfigMap aws-env at data.AWS_SECRET_ACCESS_KEY. Fix: ${fix}`,
        ]);
    });

    it("reports the repository password in Helm values", async () => {
        const stack = onVelero(
            protect,
            ["configuration", "extraEnvVars"],
            [{ name: "KOPIA_PASSWORD", value: REPO_PASSWORD }],
        );
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), [
            `${must} Found: the repository password in Release velero-release at values.configuration.extraEnvVars[0].value. Fix: ${fix}`,
        ]);
    });

    it("reports the repository password in a stack output", async () => {
        const stack = protect.with("gitops-dr-protect", (r) => (r.props.repoPassword = REPO_PASSWORD));
        assert.deepEqual(await messages(stack, veleroNoPlaintextCredentials), [
            `${must} Found: the repository password in the stack output repoPassword. Fix: Do not export it; whoever needs it reads it with pulumi config get --secret.`,
        ]);
    });
});

describe("policy velero-schedule-frequency", () => {
    const must = "A protect stack must back up at least every 24h.";
    const fix =
        "Set gitops-dr:backupSchedule to a cron expression that runs at least every 24h, or raise this policy's maxBackupIntervalHours.";

    it("passes the compliant protect and recover stacks, and does not apply to a drill", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroScheduleFrequency), []);
        }
    });

    it("reports a stack without any schedule", async () => {
        assert.deepEqual(await messages(protect.without(N.schedule), veleroScheduleFrequency), [
            `${must} Found: no backup schedule (neither a Schedule object nor the velero chart's schedules values). Fix: Set gitops-dr:backupSchedule (it defaults to "0 2 * * *" in protect and recover).`,
        ]);
    });

    it("reports a weekly schedule, and a weekday-only one whose longest gap is the weekend", async () => {
        assert.deepEqual(await messages(onSchedule(protect, ["schedule"], "0 3 * * 0"), veleroScheduleFrequency), [
            `${must} Found: ${daily} runs only every 168h (7 days). Fix: ${fix}`,
        ]);
        assert.deepEqual(await messages(onSchedule(protect, ["schedule"], "0 2 * * 1-5"), veleroScheduleFrequency), [
            `${must} Found: ${daily} runs only every 72h (3 days). Fix: ${fix}`,
        ]);
    });

    it("reports a paused schedule and an unreadable one", async () => {
        assert.deepEqual(await messages(onSchedule(protect, ["paused"], true), veleroScheduleFrequency), [
            `${must} Found: ${daily} is paused. Fix: ${fix}`,
        ]);
        assert.deepEqual(await messages(onSchedule(protect, ["schedule"], "61 * * * *"), veleroScheduleFrequency), [
            `${must} Found: ${daily} has the unreadable cron spec "61 * * * *". Fix: ${fix}`,
        ]);
    });

    it("accepts @every and descriptors, and reads maxBackupIntervalHours", async () => {
        assert.deepEqual(await messages(onSchedule(protect, ["schedule"], "@every 6h"), veleroScheduleFrequency), []);
        assert.deepEqual(await messages(onSchedule(protect, ["schedule"], "@daily"), veleroScheduleFrequency), []);
        assert.deepEqual(
            await messages(onSchedule(protect, ["schedule"], "0 3 * * 0"), veleroScheduleFrequency, {
                "velero-schedule-frequency": { maxBackupIntervalHours: 168 },
            }),
            [],
        );
        assert.deepEqual(
            await messages(protect, veleroScheduleFrequency, {
                "velero-schedule-frequency": { maxBackupIntervalHours: 12 },
            }),
            [
                `A protect stack must back up at least every 12h. Found: ${daily} runs only every 24h. Fix: Set gitops-dr:backupSchedule to a cron expression that runs at least every 12h, or raise this policy's maxBackupIntervalHours.`,
            ],
        );
    });

    it("is not satisfied by the credentials schedule: it takes no data", async () => {
        assert.deepEqual(await messages(onSchedule(protect, ["paused"], true), veleroScheduleFrequency), [
            `${must} Found: ${daily} is paused. Fix: ${fix}`,
        ]);
        assert.ok(
            (await messages(protect.without(N.schedule), veleroScheduleFrequency))[0].includes("no backup schedule"),
        );
    });

    it("is satisfied by any one daily schedule, from the chart's values or an object", async () => {
        const chartDaily = onVelero(onSchedule(protect, ["schedule"], "0 3 * * 0"), ["schedules", "daily"], {
            schedule: "0 2 * * *",
            template: scheduleTemplate(),
        });
        assert.deepEqual(await messages(chartDaily, veleroScheduleFrequency), []);
        const disabled = onVelero(onSchedule(protect, ["schedule"], "0 3 * * 0"), ["schedules", "daily"], {
            disabled: true,
            schedule: "0 2 * * *",
            template: scheduleTemplate(),
        });
        assert.equal((await messages(disabled, veleroScheduleFrequency)).length, 1);
    });
});

describe("policy velero-schedule-resources", () => {
    const must =
        "Every backup schedule must back up PersistentVolumes, PersistentVolumeClaims and Secrets, the data Argo CD cannot rebuild.";
    const fix =
        "List persistentvolumes, persistentvolumeclaims and secrets in the template's includedResources, exclude none of them, and leave includeClusterResources unset or true (gitops-dr's schedules do).";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroScheduleResources), []);
        }
    });

    it("reports a schedule that does not include Secrets", async () => {
        assert.deepEqual(
            await messages(
                onTemplate(protect, "includedResources", ["persistentvolumes", "persistentvolumeclaims"]),
                veleroScheduleResources,
            ),
            [`${must} Found: ${daily} does not include Secrets in includedResources. Fix: ${fix}`],
        );
    });

    it("reports a schedule that excludes Secrets", async () => {
        assert.deepEqual(
            await messages(onTemplate(protect, "excludedResources", ["secrets"]), veleroScheduleResources),
            [`${must} Found: ${daily} excludes Secrets. Fix: ${fix}`],
        );
    });

    it("reports includeClusterResources false, which drops PersistentVolumes", async () => {
        assert.deepEqual(
            await messages(onTemplate(protect, "includeClusterResources", false), veleroScheduleResources),
            [
                `${must} Found: ${daily} sets includeClusterResources false, which leaves out PersistentVolumes. Fix: ${fix}`,
            ],
        );
    });

    it("reads the scoped resource filters", async () => {
        const scoped = protect.with(N.schedule, (r) => {
            deletePath(r, ["spec", "template", "includedResources"]);
            setPath(r, ["spec", "template", "includedNamespaceScopedResources"], ["persistentvolumeclaims"]);
            setPath(r, ["spec", "template", "includedClusterScopedResources"], ["persistentvolumes"]);
        });
        assert.deepEqual(await messages(scoped, veleroScheduleResources), [
            `${must} Found: ${daily} does not include Secrets in includedNamespaceScopedResources. Fix: ${fix}`,
        ]);
    });

    it("accepts every resource (no list) and Velero's short names", async () => {
        assert.deepEqual(await messages(onTemplate(protect, "includedResources", []), veleroScheduleResources), []);
        assert.deepEqual(
            await messages(onTemplate(protect, "includedResources", ["pv", "PVC", "secret"]), veleroScheduleResources),
            [],
        );
    });

    it("judges schedules from the chart's values too", async () => {
        const stack = onVelero(protect, ["schedules", "weekly"], {
            schedule: "0 3 * * 0",
            template: { ...scheduleTemplate(), includedResources: ["secrets"] },
        });
        assert.deepEqual(await messages(stack, veleroScheduleResources), [
            `${must} Found: schedule velero-weekly (velero-release values schedules.weekly) does not include PersistentVolumes in includedResources and does not include PersistentVolumeClaims in includedResources. Fix: ${fix}`,
        ]);
    });
});

describe("the credentials schedule and the data rules", () => {
    const credentials = "schedule prod-eu-1-credentials (Schedule velero-schedule-credentials)";
    const onCredentials = (stack: FixtureStack, path: (string | number)[], value: unknown) =>
        stack.with(N.credentialsSchedule, (r) => setPath(r, path, value));

    it("exempts a labelled, Secrets-only credentials schedule from the data rules, which it cannot meet", async () => {
        for (const policy of [veleroScheduleResources, veleroScheduleVolumeData, veleroScheduleExcludedNamespaces]) {
            assert.deepEqual(await messages(protect, policy), [], policy.name);
        }
    });

    it("judges a labelled schedule that takes more than Secrets as a data schedule: a label alone exempts nothing", async () => {
        const widened = onCredentials(protect, ["spec", "template", "includedResources"], ["secrets", "configmaps"]);
        const found = await messages(widened, veleroScheduleResources);
        assert.equal(found.length, 1);
        assert.ok(found[0].includes(credentials), found[0]);
        const clusterWide = onCredentials(protect, ["spec", "template", "includeClusterResources"], true);
        assert.ok((await messages(clusterWide, veleroScheduleExcludedNamespaces))[0].includes(credentials));
    });

    it("judges an unlabelled Secrets-only schedule as a data schedule", async () => {
        const unlabelled = onCredentials(protect, ["metadata", "labels"], {});
        const found = await messages(unlabelled, veleroScheduleResources);
        assert.equal(found.length, 1);
        assert.ok(found[0].includes(credentials), found[0]);
    });
});

describe("policy velero-credentials-backed-up (advisory)", () => {
    const advice = (what: string) =>
        `A stack that takes backups should back up the credentials a rebuild needs before Argo CD syncs: the daily backup excludes the namespaces they live in. Found: no running credentials schedule across all namespaces selects ${what}. Fix: Keep gitops-dr's <clusterName>-credentials Schedule (components/velero/credentials.ts): Secrets only, every namespace, selected by these labels.`;
    const both =
        "Sealed Secrets' sealing keys (sealedsecrets.bitnami.com/sealed-secrets-key) or Argo CD's repository and cluster credentials (argocd.argoproj.io/secret-type)";

    it("passes the compliant stacks and does not apply to a drill", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroCredentialsBackedUp), []);
        }
    });

    it("advises a credentials schedule when there is none, or it is paused", async () => {
        assert.deepEqual(await messages(protect.without(N.credentialsSchedule), veleroCredentialsBackedUp), [
            advice(both),
        ]);
        const paused = protect.with(N.credentialsSchedule, (r) => setPath(r, ["spec", "paused"], true));
        assert.deepEqual(await messages(paused, veleroCredentialsBackedUp), [advice(both)]);
    });

    it("names what the selectors leave out, and a schedule limited to some namespaces", async () => {
        const noKeys = protect.with(N.credentialsSchedule, (r) =>
            setPath(
                r,
                ["spec", "template", "orLabelSelectors"],
                [{ matchExpressions: [{ key: "argocd.argoproj.io/secret-type", operator: "Exists" }] }],
            ),
        );
        assert.deepEqual(await messages(noKeys, veleroCredentialsBackedUp), [
            advice("Sealed Secrets' sealing keys (sealedsecrets.bitnami.com/sealed-secrets-key)"),
        ]);
        const argocdOnly = protect.with(N.credentialsSchedule, (r) =>
            setPath(r, ["spec", "template", "includedNamespaces"], ["argocd"]),
        );
        assert.deepEqual(await messages(argocdOnly, veleroCredentialsBackedUp), [advice(both)]);
        const notKubeSystem = protect.with(N.credentialsSchedule, (r) =>
            setPath(r, ["spec", "template", "excludedNamespaces"], ["gdr-verify-*", "kube-system"]),
        );
        assert.deepEqual(await messages(notKubeSystem, veleroCredentialsBackedUp), [advice(both)]);
    });
});

describe("policy velero-schedule-volume-data", () => {
    const must =
        "Every backup schedule must save volume data: CSI snapshots moved into the vault by the data mover, or native snapshots.";
    const neither = `${must} Found: ${daily} neither moves snapshot data (snapshotMoveData) nor has a volume snapshot location. Fix: Set gitops-dr:volumeDataMode to dataMover (snapshotMoveData: true), or to nativeSnapshots.`;
    const moverFix =
        "Set deployNodeAgent: true and add EnableCSI to configuration.features (gitops-dr does with gitops-dr:volumeDataMode dataMover).";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroScheduleVolumeData), []);
        }
    });

    it("reports snapshotVolumes false", async () => {
        assert.deepEqual(await messages(onTemplate(protect, "snapshotVolumes", false), veleroScheduleVolumeData), [
            `${must} Found: ${daily} sets snapshotVolumes false. Fix: Remove snapshotVolumes: false from the template (gitops-dr:volumeDataMode chooses how volumes are saved).`,
        ]);
    });

    it("reports file-system backup for every volume, which saves nothing where no running pod mounts one", async () => {
        assert.deepEqual(
            await messages(onTemplate(protect, "defaultVolumesToFsBackup", true), veleroScheduleVolumeData),
            [
                `${must} Found: ${daily} sets defaultVolumesToFsBackup true, which sends every volume to file-system backup, and that saves no data for a volume no running pod of the backup mounts. Fix: Set defaultVolumesToFsBackup: false and use the data mover (gitops-dr:volumeDataMode dataMover); volumes that cannot be snapshotted go to file-system backup by volume policy (gitops-dr:fileSystemBackupVolumeTypes).`,
            ],
        );
    });

    it("reports a schedule that neither moves data nor has native snapshots", async () => {
        assert.deepEqual(await messages(onTemplate(protect, "snapshotMoveData", false), veleroScheduleVolumeData), [
            neither,
        ]);
    });

    it("inherits the server's defaultSnapshotMoveData when the template leaves it unset", async () => {
        const inherits = protect.with(N.schedule, (r) => deletePath(r, ["spec", "template", "snapshotMoveData"]));
        assert.deepEqual(await messages(inherits, veleroScheduleVolumeData), []);
        assert.deepEqual(
            await messages(
                onVelero(inherits, ["configuration", "defaultSnapshotMoveData"], false),
                veleroScheduleVolumeData,
            ),
            [neither],
        );
    });

    it("accepts native snapshots with a volume snapshot location", async () => {
        const native = onVelero(
            onVelero(onTemplate(protect, "snapshotMoveData", false), ["snapshotsEnabled"], true),
            ["configuration", "volumeSnapshotLocation"],
            [{ name: "default", provider: "aws", config: { region: "eu-west-1" } }],
        );
        assert.deepEqual(await messages(native, veleroScheduleVolumeData), []);
    });

    it("reports the data mover without the node agent or the EnableCSI feature", async () => {
        assert.deepEqual(await messages(onVelero(protect, ["deployNodeAgent"], false), veleroScheduleVolumeData), [
            `${must} Found: ${daily} moves snapshot data but Release velero-release does not deploy the node agent (deployNodeAgent). Fix: ${moverFix}`,
        ]);
        assert.deepEqual(
            await messages(onVelero(protect, ["configuration", "features"], ""), veleroScheduleVolumeData),
            [
                `${must} Found: ${daily} moves snapshot data but Release velero-release does not enable the EnableCSI feature (configuration.features). Fix: ${moverFix}`,
            ],
        );
    });
});

describe("policy velero-schedule-ttl-within-lock", () => {
    const must =
        "A backup must stay locked for as long as Velero keeps it: no schedule's TTL may exceed the vault's default retention.";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroScheduleTtlWithinLock), []);
        }
    });

    it("reports a TTL beyond the retention of the vault the stack creates", async () => {
        assert.deepEqual(await messages(onTemplate(protect, "ttl", "2160h"), veleroScheduleTtlWithinLock), [
            `${must} Found: ${daily} keeps backups 2160h (90 days), the vault locks them 31 days. Fix: Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most 744h, or raise gitops-dr:lockDays.`,
        ]);
    });

    it("counts an unset TTL as Velero's default of 720h", async () => {
        const stack = protect
            .with(N.schedule, (r) => deletePath(r, ["spec", "template", "ttl"]))
            .with(N.credentialsSchedule, (r) => setPath(r, ["spec", "template", "ttl"], "696h"))
            .with(N.lock, (r) => (r.props.rule = { defaultRetention: { mode: "COMPLIANCE", days: 29 } }));
        assert.deepEqual(await messages(stack, veleroScheduleTtlWithinLock), [
            `${must} Found: ${daily} keeps backups 720h (Velero's default TTL), the vault locks them 29 days. Fix: Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most 696h, or raise gitops-dr:lockDays.`,
        ]);
    });

    it("judges the credentials schedule's TTL too: its backups are as locked as the data", async () => {
        const stack = protect.with(N.credentialsSchedule, (r) => setPath(r, ["spec", "template", "ttl"], "2160h"));
        assert.deepEqual(await messages(stack, veleroScheduleTtlWithinLock), [
            `${must} Found: schedule prod-eu-1-credentials (Schedule velero-schedule-credentials) keeps backups 2160h (90 days), the vault locks them 31 days. Fix: Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most 744h, or raise gitops-dr:lockDays.`,
        ]);
    });

    it("judges a stack writing to a vault it does not create against minLockDays", async () => {
        const stack = onTemplate(recover, "ttl", "744h");
        assert.deepEqual(await messages(stack, veleroScheduleTtlWithinLock), [
            `${must} Found: schedule prod-eu-2-daily (Schedule velero-schedule-daily) keeps backups 744h (31 days), and a vault this stack does not create is assumed to lock them 30 days (this policy's minLockDays). Fix: Lower the TTL (gitops-dr:backupTtl, gitops-dr:weeklyBackupTtl, gitops-dr:monthlyBackupTtl) to at most 720h, or raise this policy's minLockDays to the vault's real retention.`,
        ]);
        assert.deepEqual(
            await messages(stack, veleroScheduleTtlWithinLock, {
                "velero-schedule-ttl-within-lock": { minLockDays: 31 },
            }),
            [],
        );
    });

    it("reports a TTL that is not a Go duration", async () => {
        assert.deepEqual(await messages(onTemplate(protect, "ttl", "30d"), veleroScheduleTtlWithinLock), [
            `${must} Found: ${daily} has ttl "30d", which is not a Go duration. Fix: Write the TTL as a Go duration such as "720h" (gitops-dr:backupTtl).`,
        ]);
    });
});

describe("policy velero-schedule-excluded-namespaces", () => {
    const fix =
        "Add them to the template's excludedNamespaces (gitops-dr always excludes kube-system, kube-public, kube-node-lease, Velero's and Argo CD's namespaces; gitops-dr:excludedNamespaces adds more).";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroScheduleExcludedNamespaces), []);
        }
    });

    it("reports a schedule that backs up kube-system", async () => {
        assert.deepEqual(
            await messages(
                onTemplate(protect, "excludedNamespaces", ["velero", "argocd", "gdr-verify-*"]),
                veleroScheduleExcludedNamespaces,
            ),
            [
                `Every backup schedule must exclude kube-system: restoring a cluster's own system objects into a new cluster breaks it. Found: ${daily} does not exclude kube-system. Fix: ${fix}`,
            ],
        );
    });

    it("reports a schedule that would back up the verification's scratch namespaces", async () => {
        const scratch = `Every backup schedule must exclude the weekly verification's scratch namespaces (gdr-verify-*): a backup taken during a verification would keep restored copies under names no restore maps back. Found: ${daily} does not exclude gdr-verify-*. Fix: Add gdr-verify-* to the template's excludedNamespaces (gitops-dr's Schedules do; Velero 1.18 matches it as a glob).`;
        for (const excluded of [["kube-system"], ["kube-system", "gdr-verify-shop"], ["kube-system", "gdr-verify"]]) {
            assert.deepEqual(
                await messages(onTemplate(protect, "excludedNamespaces", excluded), veleroScheduleExcludedNamespaces),
                [scratch],
                excluded.join(","),
            );
        }
        assert.deepEqual(
            await messages(
                onTemplate(protect, "excludedNamespaces", ["kube-system", "gdr-*"]),
                veleroScheduleExcludedNamespaces,
            ),
            [],
            "a wider pattern covers it",
        );
    });

    it("reads requiredExcludedNamespaces", async () => {
        const config = {
            "velero-schedule-excluded-namespaces": {
                requiredExcludedNamespaces: ["kube-system", "velero", "monitoring"],
            },
        };
        assert.deepEqual(await messages(protect, veleroScheduleExcludedNamespaces, config), [
            `Every backup schedule must exclude kube-system, velero and monitoring: restoring a cluster's own system objects into a new cluster breaks it. Found: ${daily} does not exclude monitoring. Fix: ${fix}`,
        ]);
    });

    it("counts a glob exclusion and an include list that leaves the namespace out", async () => {
        assert.deepEqual(
            await messages(
                onTemplate(protect, "excludedNamespaces", ["kube-*", "gdr-verify-*"]),
                veleroScheduleExcludedNamespaces,
            ),
            [],
        );
        assert.deepEqual(
            await messages(
                onTemplate(onTemplate(protect, "excludedNamespaces", []), "includedNamespaces", ["apps", "shop"]),
                veleroScheduleExcludedNamespaces,
            ),
            [],
        );
    });
});

describe("policy velero-drill-read-only", () => {
    const must =
        "A drill must only read the vault: every backup storage location must be ReadOnly and there must be no backup schedule.";
    const locationFix =
        "Set accessMode: ReadOnly; a drill has only the read-only source location (gitops-dr:mode drill).";

    it("passes the compliant drill and does not apply to other modes", async () => {
        for (const stack of [drill, protect, recover]) {
            assert.deepEqual(await messages(stack, veleroDrillReadOnly), []);
        }
    });

    it("reports a writable location, also when accessMode is left to Velero's ReadWrite default", async () => {
        const expected = [
            `${must} Found: location source (velero-release values configuration.backupStorageLocation[0]) has accessMode ReadWrite. Fix: ${locationFix}`,
        ];
        assert.deepEqual(
            await messages(
                onVelero(drill, ["configuration", "backupStorageLocation", 0, "accessMode"], "ReadWrite"),
                veleroDrillReadOnly,
            ),
            expected,
        );
        assert.deepEqual(
            await messages(
                drill.with(N.velero, (r) =>
                    deletePath(r, ["values", "configuration", "backupStorageLocation", 0, "accessMode"]),
                ),
                veleroDrillReadOnly,
            ),
            expected,
        );
    });

    it("reports a BackupStorageLocation object that can write", async () => {
        const stack = drill.add("kubernetes:velero.io/v1:BackupStorageLocation", "extra-location", {
            metadata: { name: "extra" },
            spec: { provider: "aws", objectStorage: { bucket: "acme-gitops-dr-vault", prefix: "prod-eu-1" } },
        });
        assert.deepEqual(await messages(stack, veleroDrillReadOnly), [
            `${must} Found: location extra (BackupStorageLocation extra-location) has accessMode ReadWrite. Fix: ${locationFix}`,
        ]);
    });

    it("reports a schedule", async () => {
        const stack = drill.add(FIXTURE_TYPES.schedule, "drill-schedule", {
            metadata: { name: "drill-eu-1-daily" },
            spec: { schedule: "0 2 * * *", template: scheduleTemplate() },
        });
        assert.deepEqual(await messages(stack, veleroDrillReadOnly), [
            `${must} Found: schedule drill-eu-1-daily (Schedule drill-schedule) exists. Fix: Remove it: a drill takes no backups (leave gitops-dr:backupSchedule and the TTL keys unset in a drill stack).`,
        ]);
    });
});

describe("policy velero-recover-source-read-only", () => {
    const must =
        "A recovery must only read the lost cluster's backups: every backup storage location but its own default one must be ReadOnly, and its own must write under a prefix of its own.";

    it("passes the compliant recover stack and does not apply to other modes", async () => {
        for (const stack of [recover, protect, drill]) {
            assert.deepEqual(await messages(stack, veleroRecoverSourceReadOnly), []);
        }
    });

    it("reports a writable source location", async () => {
        assert.deepEqual(
            await messages(
                onVelero(recover, ["configuration", "backupStorageLocation", 1, "accessMode"], "ReadWrite"),
                veleroRecoverSourceReadOnly,
            ),
            [
                `${must} Found: location source (velero-release values configuration.backupStorageLocation[1]) is not the default location and has accessMode ReadWrite. Fix: Set accessMode: ReadOnly on it (gitops-dr's source location is).`,
            ],
        );
    });

    it("reports its own location writing where it restores from", async () => {
        assert.deepEqual(
            await messages(
                onVelero(recover, ["configuration", "backupStorageLocation", 0, "prefix"], "prod-eu-1"),
                veleroRecoverSourceReadOnly,
            ),
            [
                `${must} Found: the default location default writes to acme-gitops-dr-vault/prod-eu-1, where location source restores from. Fix: Set gitops-dr:prefix to a prefix of this cluster's own (it defaults to gitops-dr:clusterName).`,
            ],
        );
    });
});

describe("policy velero-alerts-deployed (advisory)", () => {
    const advice =
        "A stack that takes backups should alert when they fail or stop: otherwise a broken backup is found at restore time. Found: neither the velero chart's metrics.prometheusRule nor a PrometheusRule with alerts on Velero's metrics. Fix: Set gitops-dr:prometheusOperator to true where the Prometheus operator runs.";

    it("passes stacks whose chart deploys the alerts, and does not apply to a drill", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, veleroAlertsDeployed), []);
        }
    });

    it("advises alerts when none are deployed", async () => {
        const violations = await violationsOf(
            onVelero(protect, ["metrics", "prometheusRule", "enabled"], false),
            veleroAlertsDeployed,
        );
        assert.deepEqual(
            violations.map((v) => [v.enforcementLevel, v.message]),
            [["advisory", advice]],
        );
    });

    it("accepts a PrometheusRule object with Velero alerts", async () => {
        const stack = onVelero(protect, ["metrics", "prometheusRule", "enabled"], false).add(
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            "velero-alerts",
            {
                spec: {
                    groups: [
                        {
                            name: "velero",
                            rules: [
                                { alert: "VeleroBackupFailed", expr: "increase(velero_backup_failure_total[1h]) > 0" },
                            ],
                        },
                    ],
                },
            },
        );
        assert.deepEqual(await messages(stack, veleroAlertsDeployed), []);
    });
});
