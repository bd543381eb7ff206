import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import { iamPolicyNoWildcardActions } from "../../policies/rules/iam-policy-no-wildcard-actions";
import { iamRestoreRoleReadOnly } from "../../policies/rules/iam-restore-role-read-only";
import { iamRoleNoLockBypass } from "../../policies/rules/iam-role-no-lock-bypass";
import { KOPIA_FIXED_BLOB_PATTERNS } from "../../components/iam";
import { evaluate } from "../../policies/lib/iam";
import { KOPIA_FIXED_BLOBS, backupDestructionRequests, backupNames, globsOverlap } from "../../policies/lib/vault-keys";
import { StackView } from "../../policies/lib/view";
import { policyResources } from "../../policies/gate/evaluate";
import { analyzedResources } from "../../policies/gate/recording";
import {
    FIXTURE_TYPES,
    FixtureStack,
    N,
    compliantStack,
    restorerDocument,
    violationsOf,
    writerDocument,
} from "../../policies/testing/stack";

const protect = compliantStack("protect");
const recover = compliantStack("recover");
const drill = compliantStack("drill");
const vault = "arn:aws:s3:::acme-gitops-dr-vault";

async function messages(stack: FixtureStack, policy: Policy): Promise<string[]> {
    return (await violationsOf(stack, policy)).map((v) => v.message);
}

type Statement = Record<string, unknown>;

/** A copy in which the named policy resource holds `document`. */
function withDocument(stack: FixtureStack, name: string, document: unknown): FixtureStack {
    return stack.with(
        name,
        (r) => (r.props.policy = typeof document === "string" ? document : JSON.stringify(document)),
    );
}

/** A copy in which `statement` is added to a policy document built by `base`. */
function withStatement(
    stack: FixtureStack,
    name: string,
    base: Record<string, unknown>,
    statement: Statement,
): FixtureStack {
    return withDocument(stack, name, { ...base, Statement: [...(base.Statement as Statement[]), statement] });
}

/** Static keys: no role, the managed policies attached by hand to the key's user. */
function withoutRole(stack: FixtureStack): FixtureStack {
    return stack.without(
        N.role,
        ...stack.resources.filter((r) => r.type === FIXTURE_TYPES.attachment).map((r) => r.name),
    );
}

describe("policy iam-policy-no-wildcard-actions", () => {
    const must =
        'IAM policies must name the actions they allow: no "*", no service-wide wildcard such as "s3:*" and no NotAction.';
    const fix =
        "List the actions the role needs: the velero-plugin-for-aws README's minimum, scoped to the cluster's prefix (DESIGN §4, components/iam.ts).";

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, iamPolicyNoWildcardActions), []);
        }
    });

    it('reports "*" and a service-wide wildcard', async () => {
        const everything = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Sid: "Everything",
            Effect: "Allow",
            Action: "*",
            Resource: "*",
        });
        assert.deepEqual(await messages(everything, iamPolicyNoWildcardActions), [
            `${must} Found: Policy velero-iam-writer statement Everything allows "*". Fix: ${fix}`,
        ]);
        const allS3 = withStatement(recover, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Sid: "AllS3",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:*"],
            Resource: `${vault}/*`,
        });
        assert.deepEqual(await messages(allS3, iamPolicyNoWildcardActions), [
            `${must} Found: Policy velero-iam-restorer statement AllS3 allows "s3:*". Fix: ${fix}`,
        ]);
    });

    it("reports NotAction in an Allow statement", async () => {
        const stack = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Allow",
            NotAction: ["iam:*"],
            Resource: "*",
        });
        assert.deepEqual(await messages(stack, iamPolicyNoWildcardActions), [
            `${must} Found: Policy velero-iam-writer statement #3 allows every action but iam:* (NotAction). Fix: ${fix}`,
        ]);
    });

    it("allows wildcards in Deny statements", async () => {
        const stack = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Deny",
            Action: "s3:*",
            Resource: "*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        });
        assert.deepEqual(await messages(stack, iamPolicyNoWildcardActions), []);
    });

    it("reports a document that is not JSON", async () => {
        assert.deepEqual(await messages(withDocument(protect, N.writerPolicy, "{"), iamPolicyNoWildcardActions), [
            `${must} Found: Policy velero-iam-writer policy is not a valid JSON policy document. Fix: Pass the document as JSON.stringify of a policy object.`,
        ]);
    });

    it("reads role policies and a role's inline policies", async () => {
        const rolePolicy = protect.add(FIXTURE_TYPES.rolePolicy, "vault-replication-policy", {
            role: "vault-replication-role",
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
            }),
        });
        assert.deepEqual(await messages(rolePolicy, iamPolicyNoWildcardActions), [
            `${must} Found: RolePolicy vault-replication-policy statement #0 allows "s3:*". Fix: ${fix}`,
        ]);
        const inline = protect.with(
            N.role,
            (r) =>
                (r.props.inlinePolicies = [
                    {
                        name: "extra",
                        policy: JSON.stringify({
                            Version: "2012-10-17",
                            Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
                        }),
                    },
                ]),
        );
        assert.deepEqual(await messages(inline, iamPolicyNoWildcardActions), [
            `${must} Found: Role velero-iam-role statement #0 allows "*". Fix: ${fix}`,
        ]);
    });
});

describe("policy iam-role-no-lock-bypass", () => {
    const must =
        "No role or IAM user of the stack may lift Object Lock, delete object versions or change the vault's protection: backups must outlive every credential.";
    const fix = "Remove these actions from its policies; only the account's administrators should hold them.";
    const object = `${vault}/any-prefix/backups/any-backup/any-backup.tar.gz`;

    it("passes the compliant stacks", async () => {
        for (const stack of [protect, recover, drill]) {
            assert.deepEqual(await messages(stack, iamRoleNoLockBypass), []);
        }
    });

    it("reports a role that can bypass governance retention and shorten it", async () => {
        const stack = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: ["s3:BypassGovernanceRetention", "s3:PutObjectRetention"],
            Resource: `${vault}/*`,
        });
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: Role velero-iam-role can s3:BypassGovernanceRetention on ${object}, s3:PutObjectRetention on ${object}, s3:BypassGovernanceRetention on ${vault}/prod-eu-1/backups/daily-20250101020000/velero-backup.json and 9 more such requests. Fix: ${fix}`,
        ]);
    });

    it("asks about the stack's own prefix and backups, which a sample of another prefix misses", async () => {
        const stack = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:PutObjectRetention",
            Resource: `${vault}/prod-eu-1/backups/prod-eu-1-daily-*`,
        });
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: Role velero-iam-role can s3:PutObjectRetention on ${vault}/prod-eu-1/backups/prod-eu-1-daily-20250101020000/velero-backup.json. Fix: ${fix}`,
        ]);
    });

    it("counts a grant behind a condition, which some request context satisfies", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: ["s3:PutLifecycleConfiguration"],
            Resource: vault,
            Condition: { StringEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
        });
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: Role velero-iam-role can s3:PutLifecycleConfiguration on ${vault}. Fix: ${fix}`,
        ]);
    });

    it("evaluates the policies of a static-key user, which no role of the stack holds", async () => {
        const stack = withStatement(withoutRole(protect), N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObjectVersion",
            Resource: `${vault}/*`,
        });
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: the IAM user holding velero-iam-writer can s3:DeleteObjectVersion on ${object}, s3:DeleteObjectVersion on ${vault}/prod-eu-1/backups/daily-20250101020000/velero-backup.json, s3:DeleteObjectVersion on ${vault}/prod-eu-1/backups/prod-eu-1-credentials-20250101020000/velero-backup.json and 3 more such requests. Fix: ${fix}`,
        ]);
    });

    it("reports a policy attached by ARN that the stack does not define", async () => {
        const stack = protect.add(
            FIXTURE_TYPES.attachment,
            "velero-iam-attach-extra",
            { role: N.role, policyArn: "arn:aws:iam::aws:policy/AmazonS3FullAccess" },
            { propertyDependencies: { role: [protect.urnOf(FIXTURE_TYPES.role, N.role)] } },
        );
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: Role velero-iam-role holds arn:aws:iam::aws:policy/AmazonS3FullAccess, which the pack cannot read. Fix: Define every policy the role holds in the stack, as a valid JSON document (aws.iam.Policy), so it can be evaluated.`,
        ]);
    });

    it("reports a document the simulator rejects", async () => {
        const stack = withStatement(protect, N.writerPolicy, writerDocument("prod-eu-1"), {
            Effect: "Maybe",
            Action: "s3:GetObject",
            Resource: "*",
        });
        assert.deepEqual(await messages(stack, iamRoleNoLockBypass), [
            `${must} Found: Role velero-iam-role's policies cannot be evaluated: velero-iam-writer Statement[3].Effect: Effect must be present and exactly "Allow" or "Deny". Fix: Fix the policy documents so that they are valid IAM policies.`,
        ]);
    });
});

describe("policy iam-restore-role-read-only", () => {
    const must = "A recovery or drill role must not be able to delete or overwrite the backups it restores from.";
    const fix =
        "Grant it only s3:GetObject under the source prefix, s3:PutObject and s3:DeleteObject under <prefix>/restores/ and s3:PutObject on kopia's session blobs <prefix>/kopia/*/q*, xn*, s* with kopia's fixed names denied (components/iam.ts restorerPolicy); its own writes belong under its own prefix (gitops-dr:prefix).";
    const backup = (name: string, file = "velero-backup.json") => `${vault}/prod-eu-1/backups/${name}/${file}`;
    const kopia = (ns: string, blob: string) => `${vault}/prod-eu-1/kopia/${ns}/${blob}`;
    /** What the drill fixture knows: its Restore's schedule prod-eu-1-daily, and the sample names. */
    const drillNames = () =>
        backupNames(StackView.fromPolicyResources(policyResources(analyzedResources(drill.recorded()))));

    /** The requests the principal holding `documents` is allowed, among the drill's own. */
    async function allowedOf(documents: Record<string, unknown>[], allowKopiaBlobWrites = true): Promise<string[]> {
        const requests = backupDestructionRequests(vault, "prod-eu-1", drillNames(), allowKopiaBlobWrites);
        const result = await evaluate(
            {
                label: "test",
                documents: documents.map((d, i) => ({ name: `d${i}`, document: d })),
                external: [],
                unreadable: [],
            },
            requests,
        );
        assert.equal(result.error, undefined);
        return result.allowed.map((r) => `${r.action} ${r.resource}`);
    }

    it("passes the compliant recover and drill stacks, and does not apply to protect", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), []);
        }
    });

    it("asks about the drill's own backups: its Restore's schedule names them", () => {
        const names = drillNames();
        assert.ok(names.backups.includes("prod-eu-1-daily-20250101020000"), names.backups.join(", "));
        assert.ok(names.namespaces.includes("default") && names.namespaces.includes("staging"));
    });

    it("the program's restorer, evaluated: kopia's fixed names denied in every namespace, session blobs allowed", async () => {
        const allowed = await allowedOf([restorerDocument("prod-eu-1")], false);
        // Only the session blobs a compaction writes, never a fixed name or a data pack.
        assert.ok(allowed.length > 0);
        assert.ok(
            allowed.every((r) => /^s3:PutObject \S+\/kopia\/[a-z]+\/(q|xn)0/.test(r)),
            allowed.join("\n"),
        );
        // The same role with a broad grant on top still cannot touch the fixed names: the Deny holds.
        const broad = await allowedOf([
            restorerDocument("prod-eu-1"),
            { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${vault}/*` }] },
        ]);
        for (const ns of ["default", "staging"]) {
            assert.ok(!broad.includes(`s3:PutObject ${kopia(ns, "kopia.repository")}`), ns);
            assert.ok(!broad.includes(`s3:PutObject ${kopia(ns, ".storageconfig")}`), ns);
        }
        assert.ok(broad.includes(`s3:PutObject ${backup("prod-eu-1-daily-20250101020000")}`));
    });

    it("reports a restorer that can delete under the source prefix", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObject",
            Resource: `${vault}/prod-eu-1/*`,
        });
        const [message, ...rest] = await messages(stack, iamRestoreRoleReadOnly);
        assert.deepEqual(rest, []);
        assert.ok(
            message.startsWith(
                `${must} Found: Role velero-iam-role can s3:DeleteObject on ${backup("daily-20250101020000")}, s3:DeleteObject on ${backup("daily-20250101020000", "daily-20250101020000.tar.gz")}, s3:DeleteObject on ${backup("daily-20250101020000", "daily-20250101020000-podvolumebackups.json.gz")} and `,
            ),
            message,
        );
        assert.ok(message.endsWith(` more such requests. Fix: ${fix}`), message);
    });

    it("reports a restorer allowed to delete the backups of the schedule it restores, by a name pattern", async () => {
        // The old fixed sample (backups/daily-...) did not match this; the Restore's own schedule does.
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObject",
            Resource: `${vault}/prod-eu-1/backups/prod-eu-1-*`,
        });
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role can s3:DeleteObject on ${backup("prod-eu-1-daily-20250101020000")}, s3:DeleteObject on ${backup("prod-eu-1-daily-20250101020000", "prod-eu-1-daily-20250101020000.tar.gz")}, s3:DeleteObject on ${backup("prod-eu-1-daily-20250101020000", "prod-eu-1-daily-20250101020000-podvolumebackups.json.gz")}. Fix: ${fix}`,
        ]);
    });

    it("reports a destructive grant whose pattern no sample name matches, because it overlaps the backups", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Sid: "Sneaky",
            Effect: "Allow",
            Action: "s3:Delete*",
            Resource: `${vault}/prod-eu-1/backups/weekly-*`,
        });
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role: velero-iam-restorer statement Sneaky allows s3:DeleteObject, s3:DeleteObjectVersion on ${vault}/prod-eu-1/backups/weekly-*. Fix: ${fix}`,
        ]);
    });

    it("reports a restorer that can overwrite kopia's fixed names (the old additive kopia grant)", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:PutObject",
            Resource: `${vault}/prod-eu-1/kopia/*`,
        });
        // The fixture's own Deny holds the fixed names; without it they are reported.
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role can s3:PutObject on ${kopia("default", "p0123456789abcdef0123456789abcdef")}, s3:PutObject on ${kopia("queue", "p0123456789abcdef0123456789abcdef")}, s3:PutObject on ${kopia("staging", "p0123456789abcdef0123456789abcdef")} and 1 more such requests. Fix: ${fix}`,
        ]);
        const withoutDeny = restorerDocument("prod-eu-1") as { Statement: Statement[] };
        withoutDeny.Statement = withoutDeny.Statement.filter((st) => st.Sid !== "DenyKopiaFixedBlobs");
        const allowed = await allowedOf([
            withoutDeny,
            {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "s3:PutObject", Resource: `${vault}/prod-eu-1/kopia/*` }],
            },
        ]);
        for (const name of ["kopia.repository", "kopia.blobcfg", "kopia.maintenance", ".storageconfig", ".shards"]) {
            assert.ok(allowed.includes(`s3:PutObject ${kopia("default", name)}`), name);
        }
    });

    it("reports a recovery writer scoped to the whole bucket instead of its own prefix", async () => {
        const document = writerDocument("prod-eu-2") as { Statement: Statement[] };
        document.Statement[1].Resource = `${vault}/*`;
        const [message] = await messages(withDocument(recover, N.writerPolicy, document), iamRestoreRoleReadOnly);
        assert.ok(
            message.startsWith(
                `${must} Found: Role velero-iam-role can s3:DeleteObject on ${backup("daily-20250101020000")}`,
            ),
            message,
        );
    });

    it("flags the session blobs too with allowKopiaBlobWrites false", async () => {
        assert.deepEqual(
            (
                await violationsOf(drill, iamRestoreRoleReadOnly, {
                    "iam-restore-role-read-only": { allowKopiaBlobWrites: false },
                })
            ).map((v) => v.message),
            [
                `${must} Found: Role velero-iam-role can s3:PutObject on ${kopia("default", "q0123456789abcdef0123456789abcdef")}, s3:PutObject on ${kopia("default", "xn0_0123456789abcdef0123456789abcdef-s0123456789abcdef-c1")}, s3:PutObject on ${kopia("queue", "q0123456789abcdef0123456789abcdef")} and 5 more such requests. Fix: ${fix}`,
            ],
        );
    });

    it("evaluates a static-key user in a drill", async () => {
        const stack = withStatement(withoutRole(drill), N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObject",
            Resource: `${vault}/*`,
        });
        const [message] = await messages(stack, iamRestoreRoleReadOnly);
        assert.ok(
            message.startsWith(
                `${must} Found: the IAM user holding velero-iam-restorer can s3:DeleteObject on ${backup("daily-20250101020000")}`,
            ),
            message,
        );
    });

    it("kopia's fixed names agree with the program's Deny patterns", () => {
        for (const name of KOPIA_FIXED_BLOBS) {
            assert.ok(
                KOPIA_FIXED_BLOB_PATTERNS.some((p) => globsOverlap(`x/kopia/ns/${name}`, `x/kopia/*${p}`)),
                name,
            );
        }
    });

    it("intersects IAM globs", () => {
        assert.ok(globsOverlap("a/backups/prod-eu-1-*", "a/backups/*"));
        assert.ok(globsOverlap("a/*", "a/backups/*"));
        assert.ok(!globsOverlap("a/restores/*", "a/backups/*"));
        assert.ok(!globsOverlap("a/prod-eu-2/*", "a/prod-eu-1/backups/*"));
        assert.ok(globsOverlap("a/prod-eu-?/*", "a/prod-eu-1/backups/*"));
        assert.ok(globsOverlap("arn:*:s3:::b/*", "arn:aws:s3:::b/x"));
    });
});
