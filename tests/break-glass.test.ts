/**
 * The break-glass card (components/break-glass.ts): a protect stack's `breakGlass` output is everything a recovery
 * needs without that stack's state, holds no secret, and its commands, run as the card says, make a recover
 * stack that restores the same backups as one that reads the protect stack through sourceStack.
 */
import * as assert from "node:assert/strict";

import { BREAK_GLASS_PLACEHOLDERS, BreakGlass } from "../components/break-glass";
import { ProgramRun, StackValue, pulumiConfigSet, runProgram } from "../engine";
import { PROD_OUTPUTS, RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

/** A command's words as the shell splits them (single quotes only, as the card writes them). */
function words(command: string): string[] {
    return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/** What the operator fills in on the day, for the card of the shipped prod stack (IRSA). */
const FILLED: Readonly<Record<string, string>> = {
    [BREAK_GLASS_PLACEHOLDERS.clusterName]: "prod-eu-2",
    [BREAK_GLASS_PLACEHOLDERS.kubeContext]: "prod-eu-2",
    [BREAK_GLASS_PLACEHOLDERS.restoreId]: "2026-12-31",
    [BREAK_GLASS_PLACEHOLDERS.oidcProviderArn]:
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/AAAABBBBCCCCDDDDEEEEFFFF00001111",
    [BREAK_GLASS_PLACEHOLDERS.repoPassword]: STACK_SECRETS.repoPassword,
};

/** The stack values a card's `commands` set, its placeholders filled in from `filled`. */
function replay(
    commands: readonly string[],
    filled: Readonly<Record<string, string>> = FILLED,
): Map<string, StackValue> {
    const values = new Map<string, StackValue>();
    let stack: string | undefined;
    for (const command of commands) {
        const w = words(command).map((x) => filled[x] ?? x);
        if (w[0] === "pulumi" && w[1] === "stack" && w[2] === "init") {
            stack = "recover";
        } else if (w[0] === "pulumi" && w[1] === "config") {
            pulumiConfigSet(values, w.slice(2), "gitops-dr");
        } else {
            assert.equal(command, "pulumi up");
        }
    }
    assert.equal(stack, "recover");
    assert.ok(![...values.values()].some((v) => JSON.stringify(v).includes("<")), "every placeholder was filled in");
    return values;
}

describe("breakGlass: recovering when the protect stack's state is gone too", () => {
    let prod: ProgramRun;
    let card: BreakGlass;
    before(async () => {
        prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        card = prod.outputs.breakGlass as BreakGlass;
    });

    it("is what a recover stack reads through sourceStack, from the same run", () => {
        for (const key of ["bucketName", "region", "kmsKeyArn", "prefix", "clusterName", "dailyScheduleName"]) {
            assert.equal(card[key as keyof BreakGlass], prod.outputs[key], key);
        }
        assert.equal(card.credentialsScheduleName, prod.outputs.credentialsScheduleName);
        // The shipped fixture's own outputs, the ones the recover tests read, agree with the card.
        assert.equal(card.bucketName, PROD_OUTPUTS.bucketName);
        assert.equal(card.dailyScheduleName, PROD_OUTPUTS.dailyScheduleName);
    });

    it("holds no secret", () => {
        const text = JSON.stringify(card);
        assert.ok(!text.includes(STACK_SECRETS.repoPassword));
        assert.ok(!text.includes("test-secret-for"));
        assert.ok(
            card.recoverCommands.includes(
                `pulumi config set --secret gitops-dr:repoPassword '${BREAK_GLASS_PLACEHOLDERS.repoPassword}'`,
            ),
        );
    });

    it("only a protect stack has one", async () => {
        const recover = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        assert.equal(recover.outputs.breakGlass, undefined);
    });

    it("its commands, placeholders filled in, make a recover stack that restores the same backups without the state", async () => {
        const values = replay(card.recoverCommands);
        // No stack reference at all: the state is gone.
        const noState = await runProgram({ stack: "recover", stackValues: values, stackReferences: {} });
        // The same recovery while the state is there: sourceStack reads this very prod run's outputs.
        const withState = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: { [RECOVER_CONFIG.sourceStack]: prod.outputs },
        });
        assert.deepEqual(noState.warnings, []);
        for (const key of ["bucketName", "region", "kmsKeyArn", "sourcePrefix"]) {
            assert.equal(noState.outputs[key], withState.outputs[key], key);
        }
        const spec = (r: ProgramRun) => (r.restore().inputs as { spec: Record<string, unknown> }).spec;
        assert.equal(spec(noState).scheduleName, "prod-eu-1-daily");
        assert.equal(spec(noState).scheduleName, spec(withState).scheduleName);
        assert.equal((noState.outputs.restore as { phase?: string }).phase, "Completed");
    });
    it("names the replica, and its replica variant makes a recover stack that reads the replica without the state", async () => {
        assert.equal(card.replicaBucketName, prod.outputs.replicaBucketName);
        assert.equal(card.replicaRegion, "eu-central-1");
        assert.equal(card.replicaBucketName, PROD_OUTPUTS.replicaBucketName, "the shipped fixture agrees");
        assert.equal(card.replicaKmsKeyArn, prod.outputs.replicaKmsKeyArn);
        const noState = await runProgram({
            stack: "recover",
            stackValues: replay(card.recoverFromReplicaCommands!),
            stackReferences: {},
        });
        assert.deepEqual(noState.warnings, []);
        const source = noState.one(
            "kubernetes:velero.io/v1:BackupStorageLocation",
            "gitops-dr-recover-velero-source-location",
        );
        assert.deepEqual(source.inputs.spec, {
            provider: "aws",
            objectStorage: { bucket: card.replicaBucketName, prefix: card.prefix },
            config: { region: card.replicaRegion, kmsKeyId: card.replicaKmsKeyArn },
            accessMode: "ReadOnly",
            default: false,
        });
        // The new cluster's own backups still go to the vault.
        assert.equal(noState.outputs.bucketName, card.bucketName);
        assert.equal((noState.outputs.restore as { phase?: string }).phase, "Completed");
    });

    it("a protect stack without a replica has no replica variant", async () => {
        const single = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { replicaRegion: null } });
        const bare = single.outputs.breakGlass as BreakGlass;
        assert.equal(bare.recoverFromReplicaCommands, undefined);
        assert.equal(bare.replicaBucketName, undefined);
        assert.equal(single.outputs.replicaBucketName, undefined);
    });

    it("a homelab's card (createAccessKey) makes a recover stack that makes its own key: nothing to bring but the password", async () => {
        const homelab = await runProgram({
            stack: "prod",
            config: { credentialsMode: "staticKeys", oidcProviderArn: null, createAccessKey: "true" },
            secrets: STACK_SECRETS,
        });
        const homelabCard = homelab.outputs.breakGlass as BreakGlass;
        assert.ok(homelabCard.recoverCommands.includes("pulumi config set gitops-dr:createAccessKey true"));
        assert.ok(!homelabCard.recoverCommands.some((c) => c.includes("awsAccessKeyId")));
        const values = replay(homelabCard.recoverCommands, {
            [BREAK_GLASS_PLACEHOLDERS.clusterName]: "home-2",
            [BREAK_GLASS_PLACEHOLDERS.kubeContext]: "home-2",
            [BREAK_GLASS_PLACEHOLDERS.restoreId]: "2026-12-31",
            [BREAK_GLASS_PLACEHOLDERS.repoPassword]: STACK_SECRETS.repoPassword,
        });
        const recover = await runProgram({ stack: "recover", stackValues: values, stackReferences: {} });
        assert.deepEqual(recover.warnings, []);
        assert.equal(recover.one("aws:iam/user:User").inputs.name, "home-2-velero");
        assert.equal(recover.one("aws:iam/accessKey:AccessKey").inputs.user, "home-2-velero");
        assert.equal((recover.outputs.restore as { phase?: string }).phase, "Completed");
    });
});
