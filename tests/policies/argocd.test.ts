import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import { CHART_DEFAULT_EXCLUSIONS, excludes, globMatch, parseExclusions } from "../../policies/lib/argocd";
import { argocdAppNoCascadeDelete } from "../../policies/rules/argocd-app-no-cascade-delete";
import { argocdNewAppVolumesSwitch } from "../../policies/rules/argocd-new-app-volumes-switch";
import { argocdResourceExclusions } from "../../policies/rules/argocd-resource-exclusions";
import {
    EXCLUSIONS_YAML,
    FIXTURE_TYPES,
    FixtureStack,
    N,
    compliantStack,
    violationsOf,
} from "../../policies/testing/stack";

const protect = compliantStack("protect");
const recover = compliantStack("recover");
const drill = compliantStack("drill");

async function messages(stack: FixtureStack, policy: Policy): Promise<string[]> {
    return (await violationsOf(stack, policy)).map((v) => v.message);
}

const withExclusions = (stack: FixtureStack, yaml: string | undefined) =>
    stack.with(N.argocd, (r) => {
        const cm = ((r.props.values as { configs: { cm: Record<string, unknown> } }).configs.cm ??= {});
        if (yaml === undefined) {
            delete cm["resource.exclusions"];
        } else {
            cm["resource.exclusions"] = yaml;
        }
    });

/** The fixture's exclusions with the `- apiGroups` entry that mentions `marker` replaced by `replacement`. */
function replaceEntry(marker: string, replacement: string): string {
    const entries = EXCLUSIONS_YAML.split(/(?=^- apiGroups)/m);
    const index = entries.findIndex((e) => e.includes(marker));
    assert.ok(index >= 0, marker);
    entries[index] = replacement;
    return entries.join("");
}

describe("policy argocd-resource-exclusions", () => {
    const must =
        "Argo CD must not manage what Velero restores: configs.cm[\"resource.exclusions\"] must exclude PersistentVolumes, PersistentVolumeClaims, Secrets and Velero's Backups and Restores, and keep the argo-cd chart's default exclusions, which setting the key replaces.";
    const addFix = "Add filters for them (apiGroups and kinds, no clusters, labels or selector).";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, argocdResourceExclusions), []);
        }
    });

    it("reports exclusions left to the chart's default", async () => {
        assert.deepEqual(await messages(withExclusions(protect, undefined), argocdResourceExclusions), [
            `${must} Found: Release argocd-release leaves configs.cm["resource.exclusions"] unset, and the chart's default list excludes none of them. Fix: Set configs.cm["resource.exclusions"] to the chart's default list plus those kinds.`,
        ]);
    });

    it("reports a missing Secret exclusion", async () => {
        const yaml = replaceEntry(
            "PersistentVolume,",
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim]\n',
        );
        assert.deepEqual(await messages(withExclusions(recover, yaml), argocdResourceExclusions), [
            `${must} Found: Release argocd-release's resource.exclusions does not exclude Secret. Fix: ${addFix}`,
        ]);
    });

    it("reports Velero's Backups and Restores left to Argo CD", async () => {
        const yaml = replaceEntry("velero.io", "");
        assert.deepEqual(await messages(withExclusions(drill, yaml), argocdResourceExclusions), [
            `${must} Found: Release argocd-release's resource.exclusions does not exclude Backup.velero.io and Restore.velero.io. Fix: ${addFix}`,
        ]);
    });

    it("does not count an exclusion limited by labels or to another cluster", async () => {
        const byLabel = replaceEntry(
            "PersistentVolume,",
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]\n  labels: {backup: "true"}\n',
        );
        assert.deepEqual(await messages(withExclusions(protect, byLabel), argocdResourceExclusions), [
            `${must} Found: Release argocd-release's resource.exclusions does not exclude PersistentVolume, PersistentVolumeClaim and Secret. Fix: ${addFix}`,
        ]);
        const otherCluster = replaceEntry(
            "PersistentVolume,",
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]\n  clusters: ["https://staging.example.com"]\n',
        );
        assert.equal((await messages(withExclusions(protect, otherCluster), argocdResourceExclusions)).length, 1);
    });

    it("reports dropped chart defaults", async () => {
        const yaml = replaceEntry("cilium.io", "");
        assert.deepEqual(await messages(withExclusions(protect, yaml), argocdResourceExclusions), [
            `${must} Found: Release argocd-release's resource.exclusions drops the chart defaults CiliumIdentity.cilium.io, CiliumEndpoint.cilium.io and CiliumEndpointSlice.cilium.io. Fix: Carry over the argo-cd chart's default list (its values.yaml, configs.cm."resource.exclusions").`,
        ]);
    });

    it("reports exclusions that are not a YAML list", async () => {
        assert.deepEqual(
            await messages(withExclusions(protect, 'apiGroups: [""]\nkinds: [Secret]\n'), argocdResourceExclusions),
            [
                `${must} Found: Release argocd-release's resource.exclusions is not a list of filters: it is not a YAML list. Fix: Write it as a YAML list of {apiGroups, kinds, clusters} filters.`,
            ],
        );
    });

    it("counts an exclusion scoped to every real cluster, as while the first-install switch is on", async () => {
        // The switch registers the cluster a second time as HTTPS://kubernetes.default.svc; globs are case-sensitive.
        const scoped = replaceEntry(
            "PersistentVolume,",
            '- apiGroups: [""]\n  kinds: [PersistentVolume, PersistentVolumeClaim, Secret]\n  clusters: ["https://*", "http://*"]\n',
        );
        assert.deepEqual(await messages(withExclusions(protect, scoped), argocdResourceExclusions), []);
    });
});

describe("Argo CD exclusion matching (settings.FilteredResource)", () => {
    it("matches empty lists as everything, groups and clusters as globs, kinds exactly or by *", () => {
        const exclusions = parseExclusions(
            '- kinds: [Secret]\n- apiGroups: ["*.k8s.io"]\n  kinds: ["*"]\n- apiGroups: ["cilium.{io,com}"]\n  kinds: [CiliumIdentity]\n  clusters: ["https://kubernetes.default.*"]\n',
        );
        assert.ok(excludes(exclusions, { group: "", kind: "Secret" }));
        assert.ok(excludes(exclusions, { group: "apps", kind: "Secret" }));
        assert.ok(excludes(exclusions, { group: "coordination.k8s.io", kind: "Lease" }));
        assert.ok(excludes(exclusions, { group: "cilium.com", kind: "CiliumIdentity" }));
        assert.ok(!excludes(exclusions, { group: "cilium.io", kind: "CiliumEndpoint" }));
        assert.ok(!excludes(exclusions, { group: "", kind: "ConfigMap" }));
        assert.ok(
            globMatch("kube-*", "kube-system") &&
                !globMatch("kube-*", "velero") &&
                globMatch("a?c", "abc") &&
                globMatch("[ab]x", "bx"),
        );
    });

    it("the fixture carries every chart default over", () => {
        const exclusions = parseExclusions(EXCLUSIONS_YAML);
        assert.deepEqual(
            CHART_DEFAULT_EXCLUSIONS.filter((gk) => !excludes(exclusions, gk)),
            [],
        );
    });
});

describe("policy argocd-app-no-cascade-delete", () => {
    const must = "No Application may cascade-delete its workloads when Pulumi replaces or destroys it.";
    const fix =
        "Remove it from the finalizers; deleting the Application then leaves its workloads and their volumes in place.";
    const withFinalizers = (stack: FixtureStack, finalizers: string[]) =>
        stack.with(N.rootApp, (r) => ((r.props.metadata as Record<string, unknown>).finalizers = finalizers));

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, argocdAppNoCascadeDelete), []);
        }
    });

    it("reports the resources finalizer and its background variant", async () => {
        assert.deepEqual(
            await messages(
                withFinalizers(protect, ["resources-finalizer.argocd.argoproj.io"]),
                argocdAppNoCascadeDelete,
            ),
            [
                `${must} Found: Application argocd-root-app has the finalizer resources-finalizer.argocd.argoproj.io. Fix: ${fix}`,
            ],
        );
        assert.deepEqual(
            await messages(
                withFinalizers(recover, ["example.com/other", "resources-finalizer.argocd.argoproj.io/background"]),
                argocdAppNoCascadeDelete,
            ),
            [
                `${must} Found: Application argocd-root-app has the finalizer resources-finalizer.argocd.argoproj.io/background. Fix: ${fix}`,
            ],
        );
    });

    it("reports an ApplicationSet whose template adds it", async () => {
        const stack = protect.add(FIXTURE_TYPES.applicationSet, "apps", {
            metadata: { name: "apps" },
            spec: {
                template: {
                    metadata: { name: "{{name}}", finalizers: ["resources-finalizer.argocd.argoproj.io"] },
                    spec: {},
                },
            },
        });
        assert.deepEqual(await messages(stack, argocdAppNoCascadeDelete), [
            `${must} Found: ApplicationSet apps gives its Applications the finalizer resources-finalizer.argocd.argoproj.io. Fix: ${fix}`,
        ]);
    });
});

describe("policy argocd-new-app-volumes-switch (advisory)", () => {
    const advice = (apps: string) =>
        `The new-app volumes switch should be on only while a new app's claims and secrets are created: while it is on, Argo CD may create PersistentVolumeClaims and Secrets for those apps. Found: the switch is on for ${apps}. Fix: Once their claims and Secrets exist, turn it off: pulumi config rm gitops-dr:newAppVolumes, then pulumi up.`;

    it("is quiet while the switch is off", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, argocdNewAppVolumesSwitch), []);
        }
    });

    it("advises turning the switch off, read from the stack output", async () => {
        const stack = protect.with("gitops-dr-protect", (r) => (r.props.argoCdFirstInstallApps = ["shop", "billing"]));
        const violations = await violationsOf(stack, argocdNewAppVolumesSwitch);
        assert.deepEqual(
            violations.map((v) => [v.enforcementLevel, v.message]),
            [["advisory", advice("billing and shop")]],
        );
    });

    it("and from the seed Applications the switch registers", async () => {
        const stack = protect.add(FIXTURE_TYPES.application, "seed-shop", {
            metadata: { name: "gitops-dr-seed-shop", namespace: "argocd", labels: { "gitops-dr.io/seed-of": "shop" } },
            spec: {},
        });
        assert.deepEqual(await messages(stack, argocdNewAppVolumesSwitch), [advice("shop")]);
    });

    it("and from seed Applications an older program labelled with the legacy prefix", async () => {
        const stack = protect.add(FIXTURE_TYPES.application, "seed-blog", {
            metadata: { name: "gitops-dr-seed-blog", namespace: "argocd", labels: { "gitops-dr/seed-of": "blog" } },
            spec: {},
        });
        assert.deepEqual(await messages(stack, argocdNewAppVolumesSwitch), [advice("blog")]);
    });
});
