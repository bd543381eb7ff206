import * as assert from "node:assert/strict";

import type { Policy } from "@pulumi/policy";

import { iamPolicyNoWildcardActions } from "../../policies/rules/iam-policy-no-wildcard-actions";
import { iamRestoreRoleReadOnly } from "../../policies/rules/iam-restore-role-read-only";
import { iamRoleNoLockBypass } from "../../policies/rules/iam-role-no-lock-bypass";
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
            `${must} Found: Role velero-iam-role can s3:BypassGovernanceRetention on ${object}, s3:PutObjectRetention on ${object}. Fix: ${fix}`,
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
            `${must} Found: the IAM user holding velero-iam-writer can s3:DeleteObjectVersion on ${object}. Fix: ${fix}`,
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
        "Grant it only s3:GetObject under the source prefix, s3:PutObject and s3:DeleteObject under <prefix>/restores/ and s3:PutObject under <prefix>/kopia/ (components/iam.ts restorerPolicy); its own writes belong under its own prefix (gitops-dr:prefix).";
    const metadata = `${vault}/prod-eu-1/backups/daily-20250101020000/velero-backup.json`;
    const content = `${vault}/prod-eu-1/kopia/default/p0123456789abcdef0123456789abcdef`;

    it("passes the compliant recover and drill stacks, and does not apply to protect", async () => {
        for (const stack of [recover, drill, protect]) {
            assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), []);
        }
    });

    it("reports a restorer that can delete under the source prefix", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObject",
            Resource: `${vault}/prod-eu-1/*`,
        });
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role can s3:DeleteObject on ${metadata}, s3:DeleteObject on ${content}. Fix: ${fix}`,
        ]);
    });

    it("reports a restorer that can overwrite backups", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:PutObject",
            Resource: `${vault}/prod-eu-1/*`,
        });
        // Adding kopia blobs is allowed by default (the program grants it on purpose); overwriting metadata is not.
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role can s3:PutObject on ${metadata}. Fix: ${fix}`,
        ]);
    });

    it("reports a recovery writer scoped to the whole bucket instead of its own prefix", async () => {
        const document = writerDocument("prod-eu-2") as { Statement: Statement[] };
        document.Statement[1].Resource = `${vault}/*`;
        assert.deepEqual(await messages(withDocument(recover, N.writerPolicy, document), iamRestoreRoleReadOnly), [
            `${must} Found: Role velero-iam-role can s3:DeleteObject on ${metadata}, s3:PutObject on ${metadata}, s3:DeleteObject on ${content}. Fix: ${fix}`,
        ]);
    });

    it("allows adding kopia blobs under the source prefix by default, and flags it with allowKopiaBlobWrites false", async () => {
        const stack = withStatement(drill, N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Sid: "AddKopiaBlobs",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
            Resource: `${vault}/prod-eu-1/kopia/*`,
        });
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), []);
        assert.deepEqual(
            (
                await violationsOf(stack, iamRestoreRoleReadOnly, {
                    "iam-restore-role-read-only": { allowKopiaBlobWrites: false },
                })
            ).map((v) => v.message),
            [`${must} Found: Role velero-iam-role can s3:PutObject on ${content}. Fix: ${fix}`],
        );
    });

    it("evaluates a static-key user in a drill", async () => {
        const stack = withStatement(withoutRole(drill), N.restorerPolicy, restorerDocument("prod-eu-1"), {
            Effect: "Allow",
            Action: "s3:DeleteObject",
            Resource: `${vault}/*`,
        });
        assert.deepEqual(await messages(stack, iamRestoreRoleReadOnly), [
            `${must} Found: the IAM user holding velero-iam-restorer can s3:DeleteObject on ${metadata}, s3:DeleteObject on ${content}. Fix: ${fix}`,
        ]);
    });
});
