/**
 * Existing stacks must never see a resource replaced because the code moved: a URN is the resource's identity
 * in state, and a changed one (a rename, a new parent) makes Pulumi delete and create it. Every URN recorded in
 * tests/fixtures/urns.baseline.json, for the shipped stacks and variants that register every optional resource,
 * must still be registered, or be named by an alias of the resource that replaced it. New resources may appear; an
 * old one may only go with a deliberate entry below.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { ProgramRun } from "../engine";
import { URN_VARIANTS, answeredUrns, recordRuns } from "./fixtures/urn-variants";

const BASELINE = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns.baseline.json"), "utf8")) as Record<
    string,
    string[]
>;

/** URNs that left the program on purpose, with the reason; none so far. */
const RETIRED: Readonly<Record<string, string>> = {};

describe("URNs of existing stacks", () => {
    let current: Record<string, ProgramRun>;
    before(async () => {
        current = await recordRuns();
    });

    it("records every variant of the baseline", () => {
        assert.deepEqual(Object.keys(URN_VARIANTS).sort(), Object.keys(BASELINE).sort());
    });

    for (const variant of Object.keys(BASELINE)) {
        it(`${variant}: every resource keeps its URN`, () => {
            const now = answeredUrns(current[variant]);
            const lost = BASELINE[variant].filter((urn) => !now.has(urn) && RETIRED[urn] === undefined);
            assert.deepEqual(lost, [], `${variant}: these resources would be replaced (give them an alias)`);
        });
    }
});
