/**
 * What the Mongo specs that count database commands share: connections whose commands are recorded
 * (driver command monitoring), and a one-route controller whose clients are told by `X-Client`.
 */
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import type { CommandStartedEvent } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';
import { mongoUrl } from '../harness/mongo.js';

/** Commands that keep a connection or the indexes up, not counted unless asked. */
const UPKEEP = ['hello', 'isMaster', 'ismaster', 'endSessions', 'createIndexes', 'listIndexes'];

@Controller()
export class HotController {
  @Get('hot') hot() {
    return 'ok';
  }
}

/** The client of a request: its `X-Client` header. */
export const clientHeader = (ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'];

/** Opens connections to one database that record the names of the commands they send; `close` drops the database. */
export function monitoredConnections(dbName: string, options: { readonly upkeep?: boolean } = {}) {
  const connections: Connection[] = [];
  return {
    async open(): Promise<{ connection: Connection; commands: string[] }> {
      const connection = await mongoose.createConnection(mongoUrl(), { dbName, monitorCommands: true }).asPromise();
      connections.push(connection);
      const commands: string[] = [];
      connection.getClient().on('commandStarted', (event: CommandStartedEvent) => {
        if (options.upkeep || !UPKEEP.includes(event.commandName)) commands.push(event.commandName);
      });
      return { connection, commands };
    },
    async close(): Promise<void> {
      await connections[0]?.dropDatabase();
      await Promise.all(connections.map((c) => c.close()));
    },
  };
}
