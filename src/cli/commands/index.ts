/** The registry of CLI commands, in the order `flowsampler --help` lists them. */
import type { Command } from '../command.js';
import { demoCommand } from './demo.js';

export const commands: Command[] = [demoCommand];
