/**
 * The drill's verification and report: the Job runs after the root Application and the checked restore, its
 * identity only reads (and execs only where a check needs it), every step is a kubectl command in a pinned
 * image, and the report's figures come from the Restore's and Backup's status and the Job's end.
 */
import * as assert from "node:assert/strict";

import { drillReport, verifySteps } from "../components/drill";
import { KUBECTL_IMAGE } from "../components/versions";
import { ProgramRun, RegisteredResource, runProgram } from "../engine";
import { DATA_BYTES_PER_CLAIM } from "../engine/cluster";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

const CHECKS = [
    "shop/deploy/postgres pg_isready -U shop",
    "billing/statefulset/ledger sh -c 'test -s /data/ledger.db'",
];
const drill = (config: Record<string, string | string[] | number> = {}, startedAt?: number) =>
    runProgram({
        stack: "drill",
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        config: { drillChecks: CHECKS, ...config },
        startedAt,
    });

type PodSpec = {
    serviceAccountName: string;
    restartPolicy: string;
    initContainers: { name: string; image: string; args: string[] }[];
    containers: { image: string }[];
};
const podOf = (job: RegisteredResource) => (job.inputs.spec as { template: { spec: PodSpec } }).template.spec;

describe("drill verification", () => {
    let run: ProgramRun;
    before(async () => {
        run = await drill();
    });

    it("runs after the root Application and the restore's checked end, through inputs", () => {
        const job = run.one("kubernetes:batch/v1:Job", "gitops-dr-drill-verify-job");
        const root = run.one("kubernetes:argoproj.io/v1alpha1:Application", "gitops-dr-drill-argocd-root-app");
        const restore = run.restore();
        assert.ok((job.propertyDependencies.metadata ?? []).includes(root.urn), "the root app's name is an input");
        assert.ok((job.propertyDependencies.spec ?? []).includes(restore.urn), "the restore's name is an input");
        assert.ok(run.dependsOn(job, restore));
    });

    it("its steps: root synced, all apps synced and healthy, restored claims bound, then each check", () => {
        const pod = podOf(run.one("kubernetes:batch/v1:Job", "gitops-dr-drill-verify-job"));
        assert.deepEqual(
            pod.initContainers.map((c) => c.name),
            ["root-synced", "apps-synced", "apps-healthy", "claims-bound", "check-1", "check-2"],
        );
        assert.deepEqual(pod.initContainers[3].args, [
            "wait",
            "--for=jsonpath={.status.phase}=Bound",
            "persistentvolumeclaims",
            "--all-namespaces",
            "-l",
            // Claims a drill quarantined (their volumes point at the source's storage) hold no data on purpose.
            "velero.io/restore-name=drill-eu-1-2026-11-25,!gitops-dr.io/quarantined",
            "--timeout=1800s",
        ]);
        assert.deepEqual(pod.initContainers[5].args, [
            "exec",
            "-n",
            "billing",
            "statefulset/ledger",
            "--",
            "sh",
            "-c",
            "test -s /data/ledger.db",
        ]);
        assert.ok(
            [...pod.initContainers, ...pod.containers].every(
                (c) => c.image === `${KUBECTL_IMAGE.repository}:${KUBECTL_IMAGE.tag}`,
            ),
        );
    });

    it("is a valid Job: restartPolicy Never (kx leaves it unset), no retry, a deadline, and a wait longer than it", () => {
        const job = run.one("kubernetes:batch/v1:Job", "gitops-dr-drill-verify-job");
        const spec = job.inputs.spec as { backoffLimit: number; activeDeadlineSeconds: number };
        assert.equal(podOf(job).restartPolicy, "Never");
        assert.equal(spec.backoffLimit, 0);
        assert.equal(spec.activeDeadlineSeconds, 1800);
        assert.deepEqual(job.customTimeouts, { create: "35m", update: "35m", delete: undefined });
    });

    it("its identity only reads, and may exec only in the namespaces of its checks", () => {
        const clusterRole = run.one(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
            "gitops-dr-drill-verify-read",
        );
        const rules = clusterRole.inputs.rules as { verbs: string[]; resources: string[] }[];
        assert.ok(
            rules.every((r) => r.verbs.every((v) => ["get", "list", "watch"].includes(v))),
            JSON.stringify(rules),
        );
        assert.ok(
            rules.every((r) => !r.resources.includes("secrets")),
            "no Secret is readable",
        );
        const roles = run
            .ofType("kubernetes:rbac.authorization.k8s.io/v1:Role")
            .filter((r) => r.name.startsWith("gitops-dr-drill-verify-"));
        assert.deepEqual(roles.map((r) => (r.inputs.metadata as { namespace: string }).namespace).sort(), [
            "billing",
            "shop",
        ]);
        for (const role of roles) {
            assert.deepEqual(role.inputs.rules, [
                { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] },
            ]);
            // Created only after the restore made the namespace: the checked restore's name is an input.
            assert.ok((role.propertyDependencies.metadata ?? []).includes(run.restore().urn), role.name);
        }
        const noChecks = podOf(run.one("kubernetes:batch/v1:Job", "gitops-dr-drill-verify-job")).serviceAccountName;
        assert.equal(noChecks, "gitops-dr-drill-verify");
    });

    it("without checks: no exec permission at all", async () => {
        const plain = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(
            plain
                .ofType("kubernetes:rbac.authorization.k8s.io/v1:Role")
                .filter((r) => r.name.startsWith("gitops-dr-drill-verify-")).length,
            0,
        );
        assert.deepEqual(
            podOf(plain.one("kubernetes:batch/v1:Job", "gitops-dr-drill-verify-job")).initContainers.map((c) => c.name),
            ["root-synced", "apps-synced", "apps-healthy", "claims-bound"],
        );
    });

    it("reports the backup used, the data's age, the time to restore and to verified, and the checks passed", () => {
        const report = run.outputs.drillReport as { backupName: string };
        assert.match(report.backupName, /^prod-eu-1-daily-\d{14}$/);
        assert.deepEqual(run.outputs.drillReport, {
            restoreName: "drill-eu-1-2026-11-25",
            backupName: report.backupName,
            restorePhase: "Completed",
            itemsRestored: 6,
            restoreDuration: "0h38m",
            // The default source's two claims hold 1 and 2 GiB (engine/cluster/scenario.ts), each moved by one
            // DataDownload from the restore's start (minute 2) to its end (minute 40).
            dataMovement: {
                volumes: 2,
                completed: 2,
                failed: 0,
                totalBytes: 3 * DATA_BYTES_PER_CLAIM,
                bytesDone: 3 * DATA_BYTES_PER_CLAIM,
                duration: "0h38m",
                throughputMiB: Math.round(((3 * DATA_BYTES_PER_CLAIM) / 2 ** 20 / (38 * 60)) * 10) / 10,
            },
            dataAgeAtRestore: "8h02m",
            timeToRestore: "0h40m",
            timeToVerified: "0h55m",
            checksPassed: ["root-synced", "apps-synced", "apps-healthy", "claims-bound", "check-1", "check-2"],
            claimsWithoutData: [],
            volumesQuarantined: [],
            newerBackupsNotCompleted: [],
            leftoverClaimsRemoved: [],
            acceptedWarnings: [],
            isolation: {
                // The namespaces the restore put items in, found in its resource list by the isolate task.
                namespaces: ["blog", "shop"],
                egressAllowed: [],
                apiServer: ["10.0.0.10:6443"],
                admissionPolicies: [
                    "gitops-dr-drill-no-cronjob-runs",
                    "gitops-dr-drill-egress-guard",
                    "gitops-dr-drill-no-host-network",
                ],
                enforcedBy:
                    "the cluster's CNI: NetworkPolicies hold only where it enforces them (Calico, Cilium, k3s's kube-router controller; not flannel alone); the admission policies hold on any cluster",
            },
        });
    });

    it("a failed verification fails the update with the Job's error, and reports nothing as passed", async () => {
        const failing = runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            config: { drillChecks: CHECKS },
            live: {
                "kubernetes:batch/v1:Job": (inputs) => {
                    if ((inputs.metadata as { name: string }).name !== "gitops-dr-drill-verify") {
                        return undefined;
                    }
                    throw new Error("Job gitops-dr-drill-verify failed: check-1: command terminated with exit code 2");
                },
            },
        });
        await assert.rejects(failing, /check-1: command terminated with exit code 2/);
        const report = drillReport({
            outcome: {
                restoreName: "r",
                backupName: "b",
                phase: "Completed",
                errors: 0,
                warnings: 0,
                newerNotCompleted: [],
                removedClaims: [],
                quarantinedClaims: [],
                quarantinedVolumes: [],
                acceptedWarnings: [],
                retriedItems: [],
                filledClaims: [],
                dataMovement: { volumes: 0, completed: 0, failed: 0, totalBytes: 0, bytesDone: 0 },
            },
            updateStartedAt: "2026-11-25T10:00:00Z",
            steps: verifySteps({
                argoCdNamespace: "argocd",
                rootAppName: "root",
                restoreName: "r",
                checks: [],
                timeoutSeconds: 60,
            }),
        });
        assert.deepEqual(report.checksPassed, []);
        assert.equal(report.timeToVerified, undefined);
        // No DataDownload (native snapshots, or nothing to move): no data-movement figures at all.
        assert.equal(report.dataMovement, undefined);
    });

    it("protect and recover register no verification", async () => {
        const prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        assert.deepEqual(
            prod.ofType("kubernetes:batch/v1:Job").map((j) => (j.inputs.metadata as { name: string }).name),
            ["gitops-dr-storage-preflight"],
            "only the storage preflight",
        );
        assert.equal(prod.outputs.drillReport, undefined);
    });
});

describe("drill verification order", () => {
    it("nothing namespaced of the verification is created before the checked restore", async () => {
        const run = await runProgram({
            stack: "drill",
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
            config: { drillChecks: CHECKS },
        });
        const restore = run.restore();
        for (const r of run.resources.filter(
            (x) =>
                x.parent?.endsWith("gitops-dr:drill:DrillVerification::gitops-dr-drill-verify") &&
                x.type !== "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        )) {
            assert.ok(run.dependsOn(r, restore), `${r.type} ${r.name} waits for the restore`);
        }
    });
});
