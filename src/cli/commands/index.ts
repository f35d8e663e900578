/** The registry of CLI commands, in the order `flowsampler --help` lists them. */
import type { Command } from '../command.js';
import { demoCommand } from './demo.js';
import { diagnoseCommand } from './diagnose.js';

export const commands: Command[] = [demoCommand, diagnoseCommand];
