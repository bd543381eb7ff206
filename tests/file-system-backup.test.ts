/**
 * Volumes without snapshots (issue #19): the volume policy sends them to file-system backup, the node agent runs
 * and the backups hold the pods that mount them.
 */
import * as assert from "node:assert/strict";

import { parse as parseYaml } from "yaml";

import { FILE_SYSTEM_BACKUP_VOLUME_TYPES, volumePolicy } from "../components/velero";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

interface PolicyRule {
    conditions: { capacity?: string; volumeTypes?: string[] };
    action: { type: string };
}

/**
 * Velero's first-match evaluation (velero v1.18.1 `internal/resourcepolicies/resource_policies.go` `match`): every
 * condition of a rule must hold; `volumeTypes` holds when it is empty or names the volume's type; `capacity: "0,"`
 * holds for any size. A condition this test does not know fails the test rather than matching.
 */
function actionFor(policyYaml: string, volumeType: string): string | undefined {
    const doc = parseYaml(policyYaml) as { version: string; volumePolicies: PolicyRule[] };
    assert.equal(doc.version, "v1");
    for (const rule of doc.volumePolicies) {
        const unknown = Object.keys(rule.conditions).filter((k) => k !== "capacity" && k !== "volumeTypes");
        assert.deepEqual(unknown, [], "a condition this evaluation does not model");
        if (rule.conditions.capacity !== undefined) {
            assert.equal(rule.conditions.capacity, "0,", "only the catch-all capacity is modelled");
        }
        const types = rule.conditions.volumeTypes ?? [];
        if (types.length === 0 || types.includes(volumeType)) {
            return rule.action.type;
        }
    }
    return undefined;
}

const prod = (config: Record<string, string | boolean | string[] | null> = {}) =>
    runProgram({ stack: "prod", secrets: STACK_SECRETS, config });
const veleroValues = (run: ProgramRun) => {
    const found = run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === "velero");
    assert.equal(found.length, 1);
    return found[0].inputs.values as Record<string, unknown>;
};
const templateOf = (r: RegisteredResource) => (r.inputs.spec as { template: Record<string, unknown> }).template;
const veleroNamespace = (run: ProgramRun) =>
    run.ofType("kubernetes:core/v1:Namespace").find((n) => (n.inputs.metadata as { name: string }).name === "velero")!;

describe("file-system backup of volumes without snapshots", () => {
    it("the volume policy sends local and nfs volumes to fs-backup, before the catch-all snapshot", () => {
        const policy = volumePolicy(["local", "nfs"]);
        assert.equal(actionFor(policy, "local"), "fs-backup");
        assert.equal(actionFor(policy, "nfs"), "fs-backup");
        assert.equal(actionFor(policy, "csi"), "snapshot");
        // hostPath is never sent to file-system backup, which would skip it with a warning anyway.
        assert.equal(actionFor(policy, "hostPath"), "snapshot");
        const rules = (parseYaml(policy) as { volumePolicies: PolicyRule[] }).volumePolicies;
        assert.deepEqual(
            rules.map((r) => r.action.type),
            ["fs-backup", "snapshot"],
            "the catch-all comes last: a rule after it would never match",
        );
    });

    it("with [] every volume is snapshotted and the policy has no fs-backup rule", () => {
        const policy = volumePolicy([]);
        for (const t of FILE_SYSTEM_BACKUP_VOLUME_TYPES) {
            assert.equal(actionFor(policy, t), "snapshot", t);
        }
        assert.ok(!policy.includes("fs-backup"));
    });

    it("by default (protect): the policy ConfigMap has the rule, the node agent runs, the backups hold pods", async () => {
        const run = await prod({ consistentBackups: false });
        const cm = run.one("kubernetes:core/v1:ConfigMap", "gitops-dr-prod-velero-volume-policy");
        const policy = (cm.inputs.data as Record<string, string>)["policy.yaml"];
        assert.equal(actionFor(policy, "local"), "fs-backup");
        assert.equal(actionFor(policy, "csi"), "snapshot");
        assert.equal(veleroValues(run).deployNodeAgent, true);
        // consistentBackups false does not drop the pods file-system backup reads the volumes through.
        assert.ok((templateOf(run.schedule()).includedResources as string[]).includes("pods"));
        assert.equal(templateOf(run.schedule()).defaultVolumesToFsBackup, false, "opt-in by policy, not for all");
        // The node agent mounts the kubelet's pod directories (hostPath): Pod Security must admit it.
        assert.deepEqual((veleroNamespace(run).inputs.metadata as { labels: Record<string, string> }).labels, {
            "pod-security.kubernetes.io/enforce": "privileged",
        });
    });

    it("native snapshots with file-system backup: the node agent still runs, no data mover", async () => {
        const run = await prod({ volumeDataMode: "nativeSnapshots" });
        const values = veleroValues(run);
        assert.equal(values.deployNodeAgent, true);
        assert.equal((values.configuration as Record<string, unknown>).defaultSnapshotMoveData, false);
        assert.equal(templateOf(run.schedule()).snapshotMoveData, false);
    });

    it("a drill deploys the node agent too: restoring file-system backups needs it", async () => {
        const run = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(veleroValues(run).deployNodeAgent, true);
    });

    it("off ([]) with native snapshots and no hooks: no node agent and no pods in the backups", async () => {
        const run = await prod({
            volumeDataMode: "nativeSnapshots",
            consistentBackups: false,
            fileSystemBackupVolumeTypes: [],
        });
        assert.equal(veleroValues(run).deployNodeAgent, false);
        assert.ok(!(templateOf(run.schedule()).includedResources as string[]).includes("pods"));
        assert.deepEqual((veleroNamespace(run).inputs.metadata as { labels: Record<string, string> }).labels, {});
    });
});
