/** The registry of CLI commands, in the order `flowsampler --help` lists them. */
import type { Command } from '../command.js';
import { demoCommand } from './demo.js';
import { targetsCommand } from './targets.js';
import { compareCommand } from './compare.js';
import { trainCommand } from './train.js';
import { sampleCommand } from './sample.js';
import { diagnoseCommand } from './diagnose.js';
import { warmstartCommand } from './warmstart.js';
import { studyCommand } from './study.js';
import { workerCommand } from './worker.js';
import { fitCommand } from './fit.js';
import { scoreCommand } from './score.js';
import { serveCommand } from './serve.js';

export const commands: Command[] = [demoCommand, targetsCommand, compareCommand, trainCommand, sampleCommand, fitCommand, scoreCommand, diagnoseCommand, warmstartCommand, studyCommand, workerCommand, serveCommand];
