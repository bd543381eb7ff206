/** The recovery-time estimate of `npm run plan`: its arithmetic on fixed inputs, and the plan's critical path. */
import * as assert from "node:assert/strict";

import * as fs from "node:fs";
import * as path from "node:path";

import { GITOPS_DR_DEFAULTS, RECOVERY_MODEL_CASES, recoveryModelTable } from "../scripts/bench";
import { ROOT, STACKS } from "../engine";
import {
    MODEL_ASSUMPTIONS,
    VELERO_DEFAULTS,
    dataMovement,
    estimateRecovery,
    formatEstimate,
    hoursText,
    parseEstimateFlags,
    stackDataPath,
} from "../scripts/plan/estimate";
import { planStack } from "../scripts/plan/stack";

const EKS = { dataGiB: 500, volumes: 300, nodes: 3, throughputMiB: 200 } as const;
const OURS = { label: "ours", loadsPerNode: 2, filesPerVolume: 8 } as const;
const close = (actual: number, expected: number) =>
    assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe("recovery estimate: data movement", () => {
    it("bandwidth-bound: 300 volumes of 1706.67 MiB, 6 at once, 50 rounds of 20 s + 51.2 s, plus 60 s to expose", () => {
        const e = dataMovement(EKS, OURS);
        assert.equal(e.slots, 6);
        assert.equal(e.rounds, 50);
        close(e.perTransferMiB, 200 / 6);
        assert.equal(e.bandwidthBound, true);
        close(e.roundSeconds, 71.2);
        close(e.seconds, 3620);
    });

    it("Velero's defaults on the same cluster: 3 at once, 100 rounds of 20 s + 25.6 s", () => {
        const e = dataMovement(EKS, VELERO_DEFAULTS);
        assert.equal(e.filesPerVolume, MODEL_ASSUMPTIONS.nodeCpus);
        assert.equal(e.rounds, 100);
        close(e.roundSeconds, 45.6);
        close(e.seconds, 4620);
    });

    it("file-stream-bound: 3 volumes of 10 GiB on 2-CPU nodes with a fast link; more files per volume help", () => {
        const input = { dataGiB: 30, volumes: 3, nodes: 3, throughputMiB: 1000 };
        const small = { ...MODEL_ASSUMPTIONS, nodeCpus: 2 };
        const defaults = dataMovement(input, VELERO_DEFAULTS, small);
        assert.equal(defaults.bandwidthBound, false);
        assert.equal(defaults.perTransferMiB, 50);
        close(defaults.seconds, 60 + 20 + 10240 / 50);
        const eight = dataMovement(input, OURS, small);
        // 3 volumes fill only 3 of the 6 slots: one round.
        assert.deepEqual([eight.slots, eight.rounds, eight.perTransferMiB], [3, 1, 200]);
        close(eight.seconds, 60 + 20 + 10240 / 200);
    });

    it("many small volumes: the per-volume cost in rounds dominates, and loads per node divide it", () => {
        const input = { dataGiB: 300, volumes: 3000, nodes: 10, throughputMiB: 1000 };
        const one = dataMovement(input, VELERO_DEFAULTS);
        const four = dataMovement(input, { label: "4", loadsPerNode: 4, filesPerVolume: 8 });
        assert.equal(one.rounds, 300);
        assert.equal(four.rounds, 75);
        close(one.seconds, 60 + 300 * (20 + 102.4 / 100));
        close(four.seconds, 60 + 75 * (20 + 102.4 / 25));
    });

    it("refuses inputs it cannot model", () => {
        assert.throws(() => dataMovement({ ...EKS, volumes: 0 }, OURS), /--volumes and --nodes must be whole numbers/);
        assert.throws(() => dataMovement({ ...EKS, throughputMiB: 0 }, OURS), /--throughput-mib must be a positive/);
    });

    it("hoursText", () => {
        assert.deepEqual([hoursText(45.4), hoursText(60), hoursText(185)], ["45m", "1h00m", "3h05m"]);
    });
});

describe("recovery estimate: the plan's critical path", () => {
    it("drill: Velero, the sync barrier, the checks, the data Restore, Argo CD; the Argo CD release runs beside", async () => {
        const { plan, run } = await planStack(STACKS.drill);
        const ours = stackDataPath(plan, run);
        // What the drill stack registers: its node-agent ConfigMap and its Restore (the config keys' defaults).
        assert.deepEqual(ours, { label: "stack drill", loadsPerNode: 2, filesPerVolume: 8 });
        const e = estimateRecovery(plan, EKS, ours);
        assert.deepEqual(
            e.path.map((p) => `${p.step.kind} ${p.step.objectName}`),
            [
                "helm.sh/v3 Release velero",
                "velero.io/v1 BackupStorageLocation source",
                "batch/v1 Job gitops-dr-pre-restore",
                "velero.io/v1 Restore drill-eu-1-2026-11-25",
                "batch/v1 Job gitops-dr-post-restore",
                "batch/v1 Job gitops-dr-drill-isolate",
                "argoproj.io/v1alpha1 Application root",
                "batch/v1 Job gitops-dr-drill-verify",
            ],
        );
        // 3 + 2 + 1 + (300 x 4 items at 20/s = 1 min, + 3620 s) + 1 + 1 (the isolation Job) + 10 + 1.
        close(e.totalMinutes, 3 + 2 + 1 + 1 + 3620 / 60 + 1 + 1 + 10 + 1);
        const text = formatEstimate(plan, EKS, ours);
        assert.match(text, /Total: 1h20m \(1h37m with Velero's defaults\)\./);
    });

    it("prod restores nothing: the data movement alone", async () => {
        const { plan, run } = await planStack(STACKS.prod);
        assert.match(formatEstimate(plan, EKS, stackDataPath(plan, run)), /Stack prod restores nothing/);
    });
});

describe("recovery estimate: flags", () => {
    it("none: no estimate, the other arguments untouched", () => {
        assert.deepEqual(parseEstimateFlags(["drill", "--no-write"]), { rest: ["drill", "--no-write"] });
    });

    it("all four, as separate or inline values", () => {
        assert.deepEqual(
            parseEstimateFlags([
                "drill",
                "--data-gib",
                "500",
                "--volumes=300",
                "--nodes",
                "3",
                "--throughput-mib",
                "200",
            ]),
            { input: EKS, rest: ["drill"] },
        );
    });

    it("some but not all, or a value that is not a positive number", () => {
        assert.throws(
            () => parseEstimateFlags(["--data-gib", "500"]),
            /needs --volumes, --nodes, --throughput-mib too/,
        );
        assert.throws(() => parseEstimateFlags(["--nodes", "-1"]), /--nodes takes a positive number, got "-1"/);
    });
});

describe("recovery estimate: npm run bench's model figures", () => {
    it("3, 300 and 3,000 claims; gitops-dr's defaults are never slower than Velero's; the README shows this table", async () => {
        assert.deepEqual(
            RECOVERY_MODEL_CASES.map((c) => c.volumes),
            [3, 300, 3000],
        );
        const { plan } = await planStack(STACKS.recover);
        for (const c of RECOVERY_MODEL_CASES) {
            const velero = estimateRecovery(plan, c, VELERO_DEFAULTS);
            const ours = estimateRecovery(plan, c, GITOPS_DR_DEFAULTS);
            assert.ok(
                ours.totalMinutes <= velero.totalMinutes,
                `${c.label}: ${ours.totalMinutes} > ${velero.totalMinutes}`,
            );
        }
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.ok(
            readme.includes(recoveryModelTable(plan)),
            "README's Recovery time table is stale: paste the table of `npm run bench -- --model-only`",
        );
    });
});
