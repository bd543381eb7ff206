/**
 * The drill's isolation (components/drill/isolation.ts, components/tasks/isolate.js): its order (after the checked
 * restore, before the root Application), the NetworkPolicies the task writes on the simulated cluster, the task's
 * failure paths, the admission policies and the task's permissions.
 */
import * as assert from "node:assert/strict";

import {
    ISOLATED_LABEL,
    ISOLATE_JOB,
    ISOLATE_RULES,
    ISOLATION_POLICY,
    SYSTEM_NAMESPACES,
    admissionPolicies,
} from "../components/drill";
import { ProgramRun, runProgram } from "../engine";
import { ClusterStore, KubeObject, apiServerEndpoints, gzipJson } from "../engine/cluster";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

/* eslint-disable @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
const task = require("../components/tasks/isolate.js") as {
    ISOLATED_LABEL: string;
    ISOLATION_POLICY: string;
    restoredNamespaces(list: Record<string, string[]>): string[];
    isolate(api: ClusterStore, args: Record<string, unknown>): Promise<{ namespaces: string[]; apiServer: string[] }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const JOB = "kubernetes:batch/v1:Job";
const drill = (config: Record<string, string | string[]> = {}) =>
    runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES, config });
const policyIn = (run: ProgramRun, ns: string) =>
    run
        .cluster!.store.all()
        .find((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === ns && o.metadata.name === ISOLATION_POLICY);

describe("drill isolation: order", () => {
    let run: ProgramRun;
    before(async () => {
        run = await drill();
    });

    it("the isolate task runs after the restore's checked end, and the root Application after the task", () => {
        const isolate = run.one(JOB, "gitops-dr-drill-isolation-task-job");
        const report = run.one(JOB, "gitops-dr-drill-restore-report-job");
        const root = run.one("kubernetes:argoproj.io/v1alpha1:Application", "gitops-dr-drill-argocd-root-app");
        assert.ok(run.dependsOn(isolate, run.restore()), "after the Restore");
        assert.ok(run.dependsOn(isolate, report), "after the post-restore checks");
        assert.ok(run.dependsOn(root, isolate), "the root Application waits for the isolation");
        assert.ok(!run.dependsOn(isolate, root));
        const verify = run.one(JOB, "gitops-dr-drill-verify-job");
        assert.ok(run.dependsOn(verify, isolate));
    });

    it("every admission policy and binding is in place before the task labels a namespace", () => {
        const isolate = run.one(JOB, "gitops-dr-drill-isolation-task-job");
        const admission = [
            ...run.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"),
            ...run.ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"),
        ];
        assert.equal(admission.length, 6);
        for (const a of admission) {
            assert.ok(run.dependsOn(isolate, a), `${a.name} before the task`);
        }
    });

    it("protect and recover register no isolation", async () => {
        const prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        assert.deepEqual(
            prod
                .ofType("kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy")
                .map((p) => (p.inputs.metadata as { name: string }).name),
            ["gitops-dr-verify", "gitops-dr-backup-check"],
            "only the weekly verification's and the backup check's own policies",
        );
        assert.ok(!prod.resources.some((r) => r.name.includes("isolation")));
    });
});

describe("drill isolation: what the task writes in the simulated cluster", () => {
    it("a NetworkPolicy in every namespace the restore put items in, and only there", async () => {
        const run = await drill();
        const isolated = run
            .cluster!.store.all()
            .filter((o) => o.kind === "Namespace" && o.metadata.labels?.[ISOLATED_LABEL] === "true")
            .map((o) => String(o.metadata.name))
            .sort();
        assert.deepEqual(isolated, ["blog", "shop"]);
        for (const ns of ["velero", "argocd", "kube-system", "default"]) {
            assert.equal(policyIn(run, ns), undefined, `${ns} stays open`);
        }
        assert.deepEqual(policyIn(run, "shop")?.spec, {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                { to: [{ namespaceSelector: {} }] },
                {
                    to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
                { to: [{ ipBlock: { cidr: "10.0.0.10/32" } }], ports: [{ protocol: "TCP", port: 6443 }] },
            ],
        });
    });

    it("drillEgressAllow adds exactly its CIDRs, and the report lists them", async () => {
        const run = await drill({ drillEgressAllow: ["10.20.0.0/16", "2001:db8::/32"] });
        const egress = (policyIn(run, "blog")?.spec.egress ?? []) as KubeObject[];
        assert.deepEqual(egress[egress.length - 1], {
            to: [{ ipBlock: { cidr: "10.20.0.0/16" } }, { ipBlock: { cidr: "2001:db8::/32" } }],
        });
        const report = run.outputs.drillReport as { isolation: { egressAllowed: string[] } };
        assert.deepEqual(report.isolation.egressAllowed, ["10.20.0.0/16", "2001:db8::/32"]);
    });
});

/** A cluster whose Velero answers the restore's resource list with `list`. */
function clusterWith(list: Record<string, string[]>, namespaces: string[], endpoints = true): ClusterStore {
    const store = new ClusterStore(Date.parse("2026-11-25T10:00:00Z"));
    for (const name of namespaces) {
        store.put({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    if (endpoints) {
        store.put(apiServerEndpoints("fd00::1", 443));
    }
    store.onCreate.push((path, o) => {
        if (o.kind === "DownloadRequest" && o.spec.target.kind === "RestoreResourceList") {
            store.downloads.set("https://list", () => gzipJson(list));
            store.setStatus(path, { phase: "Processed", downloadURL: "https://list" });
        }
    });
    return store;
}

const ARGS = { veleroNamespace: "velero", restoreName: "drill-1", egressAllow: [], keepOpen: ["velero", "argocd"] };

describe("the isolate task (components/tasks/isolate.js)", () => {
    it("reads the namespaces of Velero's resource list: namespaced items and created namespaces, not PVs", () => {
        assert.deepEqual(
            task.restoredNamespaces({
                "v1/Secret": ["shop/db(created)", "argocd/repo(skipped)"],
                "v1/PersistentVolume": ["pvc-1(created)"],
                "v1/Namespace": ["empty(created)"],
            }),
            ["argocd", "empty", "shop"],
        );
    });

    it("never isolates the namespaces it must keep open, even when the restore put items there", async () => {
        const store = clusterWith({ "v1/Secret": ["shop/db(created)", "argocd/repo(created)"] }, ["shop", "argocd"]);
        const result = await task.isolate(store, ARGS);
        assert.deepEqual(result.namespaces, ["shop"]);
        assert.equal(
            await store.get(`/apis/networking.k8s.io/v1/namespaces/argocd/networkpolicies/${ISOLATION_POLICY}`),
            undefined,
        );
        assert.deepEqual(result.apiServer, ["fd00::1:443"]);
        const policy = await store.get(
            `/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/${ISOLATION_POLICY}`,
        );
        assert.deepEqual(policy?.spec.egress[2].to, [{ ipBlock: { cidr: "fd00::1/128" } }], "an IPv6 API server");
    });

    it("fails, before labelling anything, when the API server's endpoints cannot be read", async () => {
        const store = clusterWith({ "v1/Secret": ["shop/db(created)"] }, ["shop"], false);
        await assert.rejects(task.isolate(store, ARGS), /The kubernetes Service in namespace default has no endpoints/);
        assert.equal((await store.get("/api/v1/namespaces/shop"))?.metadata.labels, undefined);
    });

    it("fails, naming it, when a restored namespace is gone", async () => {
        const store = clusterWith({ "v1/Secret": ["shop/db(created)"] }, []);
        await assert.rejects(
            task.isolate(store, ARGS),
            /Namespace shop, which restore drill-1 restored into, cannot be labelled gitops-dr.io\/drill-isolated/,
        );
    });

    it("a retry brings its own earlier policy to what this run allows", async () => {
        const store = clusterWith({ "v1/Secret": ["shop/db(created)"] }, ["shop"]);
        await task.isolate(store, { ...ARGS, egressAllow: ["10.1.0.0/16"] });
        await task.isolate(store, ARGS);
        const policy = await store.get(
            `/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/${ISOLATION_POLICY}`,
        );
        assert.equal(policy?.spec.egress.length, 3, "the CIDR allowed before is gone");
    });

    it("shares its names with the program", () => {
        assert.equal(task.ISOLATED_LABEL, ISOLATED_LABEL);
        assert.equal(task.ISOLATION_POLICY, ISOLATION_POLICY);
    });
});

describe("drill isolation: admission policies and permissions", () => {
    const keepOpen = [...SYSTEM_NAMESPACES, "velero", "argocd"];
    const specs = admissionPolicies({
        veleroNamespace: "velero",
        keepOpen,
        egressAllow: ["10.20.0.0/16", "2001:db8::/32"],
    });
    const byName = (name: string) => specs.find((s) => s.name === name)!;

    it("refuses Jobs a CronJob owns in every namespace but the system's, Velero's and Argo CD's", () => {
        const s = byName("gitops-dr-drill-no-cronjob-runs");
        assert.deepEqual(s.policy.matchConstraints, {
            resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }],
        });
        assert.match(JSON.stringify(s.policy.validations), /ownerReferences\.exists\(r, r\.kind == 'CronJob'\)/);
        assert.deepEqual(s.binding.matchResources, {
            namespaceSelector: {
                matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: keepOpen }],
            },
        });
        assert.deepEqual(s.binding.validationActions, ["Deny"]);
    });

    it("in isolated namespaces, refuses egress-opening NetworkPolicies from anyone but the task, and host network", () => {
        const guard = byName("gitops-dr-drill-egress-guard");
        assert.deepEqual(guard.policy.matchConditions, [
            {
                name: "not-the-isolate-task",
                expression: `request.userInfo.username != 'system:serviceaccount:velero:${ISOLATE_JOB}'`,
            },
        ]);
        assert.match(
            JSON.stringify(guard.policy.validations),
            /has\(e\.to\) && size\(e\.to\) > 0 && e\.to\.all\(p, !has\(p\.ipBlock\) \|\| p\.ipBlock\.cidr in \['10\.20\.0\.0\/16', '2001:db8::\/32'\]\)\)/,
        );
        for (const s of [guard, byName("gitops-dr-drill-no-host-network")]) {
            assert.deepEqual(s.binding.matchResources, {
                namespaceSelector: { matchLabels: { [ISOLATED_LABEL]: "true" } },
            });
            assert.equal(s.policy.failurePolicy, "Fail");
        }
    });

    it("the task reads no Secret and deletes nothing", () => {
        const rules = [...ISOLATE_RULES.clusterRules, ...ISOLATE_RULES.namespaceRules];
        assert.ok(!rules.some((r) => r.resources.includes("secrets")));
        assert.deepEqual(
            rules.filter((r) => r.verbs.includes("delete")).map((r) => r.resources),
            [["downloadrequests"]],
            "only its own DownloadRequest",
        );
        assert.deepEqual(ISOLATE_RULES.clusterRules.find((r) => r.resources.includes("endpoints"))?.resourceNames, [
            "kubernetes",
        ]);
    });
});
