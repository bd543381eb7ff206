/**
 * Mocha's root hooks, loaded before any test file (.mocharc.json `require`): the tests read the stack files from
 * their own copies in tests/fixtures/stacks, so the shipped `Pulumi.prod.yaml`, `Pulumi.drill.yaml` and
 * `examples/Pulumi.recover.yaml` are the user's to edit.
 */
import * as path from "node:path";

import { readStackFilesFrom } from "../engine/stacks";

/** The fixture stacks: the shipped files as they were when the tests were written. */
export const FIXTURE_STACKS = path.join(__dirname, "fixtures", "stacks");

readStackFilesFrom(FIXTURE_STACKS);
