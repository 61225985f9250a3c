import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  SetMetadata,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type Type,
} from '@nestjs/common';
import { SkipThrottle } from '../decorators/skip-throttle.decorator.js';
import { EXEMPT_METADATA, PROBLEM_CONTENT_TYPE } from '../rate-limit.constants.js';
import { AdminActor } from './admin-actor.decorator.js';
import { AdminAuthGuard } from './admin-auth.guard.js';
import { AdminOperation, type ResponseDoc } from './admin-openapi.js';
import { AdminProblemFilter } from './admin-problem.filter.js';
import { AdminService } from './admin.service.js';
import { AdminStatsService } from './admin-stats.service.js';
import { AdminConfigService } from './admin-config.service.js';
import { AdminConfigView, AdminReloadView } from './dto/config-views.dto.js';
import { AdminStoreErrorsInterceptor } from './admin-store-errors.interceptor.js';
import { createAdminValidationPipe } from './admin-validation.pipe.js';
import { CreateAccessEntryBody, ListAccessListQuery, RemoveAccessEntryQuery } from './dto/access-list.dto.js';
import { CreateBanBody, LiftBanQuery, ListBansQuery } from './dto/ban.dto.js';
import { ClientParams } from './dto/client.dto.js';
import { StatsQuery } from './dto/stats.dto.js';
import { AdminStatsView } from './dto/stats-views.dto.js';
import { ListViolationsQuery } from './dto/violation.dto.js';
import {
  AdminAccessEntryView,
  AdminAccessList,
  AdminAppErrorView,
  AdminBanPage,
  AdminBanView,
  AdminClientView,
  AdminLiftResult,
  AdminProblemView,
  AdminViolationPage,
} from './dto/views.dto.js';

/** Problem details (RFC 9457), as every admin error is served. */
const PROBLEM = { [PROBLEM_CONTENT_TYPE]: AdminProblemView };
const errors = (...statuses: number[]): ResponseDoc[] => [
  ...statuses.map((status) => ({ status, description: ERROR_TEXT[status] ?? 'Error', content: PROBLEM })),
  { status: 401, description: 'Missing or invalid credentials.', content: PROBLEM },
  { status: 403, description: 'The admin guard denied access.', content: PROBLEM },
  {
    status: 503,
    description: 'The rate-limit storage failed or did not answer in time; a change may or may not have been made. Retry-After says when to retry.',
    content: PROBLEM,
  },
];
const ERROR_TEXT: Record<number, string> = { 400: 'Invalid request (every problem is listed).', 404: 'Nothing to act on.' };
/**
 * The errors of an operation with a JSON body: a body that is not JSON is refused by the app's body
 * parser before the admin API sees it, so that 400 has the app's error shape, not a problem.
 */
const bodyErrors = (): ResponseDoc[] => [
  {
    status: 400,
    description: `${ERROR_TEXT[400]} A body that is not JSON is refused by the app's body parser, before the admin API (and its authentication) sees it, in the app's error shape (Nest's default: statusCode, message, error) as application/json.`,
    content: { ...PROBLEM, 'application/json': AdminAppErrorView },
  },
  ...errors(),
];

/**
 * The admin REST API at `/<path>`. Made per module definition, so that the prefix is configurable;
 * mounted only when `admin` is given to `forRoot` / `forRootAsync`.
 *
 * Admin routes are not rate limited and not subject to bans or lists (an operator must be able to
 * lift a ban that covers their own address); they are protected by AdminAuthGuard instead.
 */
export function createAdminController(path: string): Type<unknown> {
  @Controller(path)
  @SkipThrottle()
  @SetMetadata(EXEMPT_METADATA, true)
  @UseGuards(AdminAuthGuard)
  @UseFilters(AdminProblemFilter)
  @UseInterceptors(AdminStoreErrorsInterceptor)
  @UsePipes(createAdminValidationPipe())
  class RateLimitAdminController {
    constructor(
      private readonly admin: AdminService,
      private readonly statistics: AdminStatsService,
      private readonly configuration: AdminConfigService,
    ) {}

    @AdminOperation({
      summary: 'List bans',
      description: 'Filter by kind, source, target (key or cidr) and whether in force; most recently changed first; cursor pagination.',
      responses: [{ status: 200, description: 'A page of bans.', type: AdminBanPage }, ...errors(400)],
    })
    @Get('bans')
    listBans(@Query() query: ListBansQuery): Promise<AdminBanPage> {
      return this.admin.listBans(query);
    }

    @AdminOperation({
      summary: 'Ban a client key or an address range',
      description:
        'Permanent (403 until lifted) or temporary (429 with Retry-After until it ends). Replaces a ban of the same target. Enforced on this instance at once, on the others within banSyncIntervalMs.',
      responses: [{ status: 201, description: 'The ban as stored.', type: AdminBanView }, ...bodyErrors()],
    })
    @Post('bans')
    @HttpCode(HttpStatus.CREATED)
    createBan(@Body() body: CreateBanBody, @AdminActor() actor: string): Promise<AdminBanView> {
      return this.admin.createBan(body, actor);
    }

    @AdminOperation({
      summary: 'Lift a ban',
      description: "Lifts the ban of a key or range; with clearHistory=true also forgets the key's violations and block count.",
      responses: [{ status: 200, description: 'The lifted ban.', type: AdminLiftResult }, ...errors(400, 404)],
    })
    @Delete('bans')
    liftBan(@Query() query: LiftBanQuery, @AdminActor() actor: string): Promise<AdminLiftResult> {
      return this.admin.liftBan(query, actor);
    }

    @AdminOperation({
      summary: 'Status of one client',
      description: 'What the guard answers the client now, its ban record, recent violations and live counters.',
      responses: [
        { status: 200, description: "The client's status.", type: AdminClientView },
        ...errors(400),
        {
          status: 414,
          description:
            "Fastify only: a key longer than the router's maxParamLength (100 characters by default), refused by Fastify itself; " +
            'new FastifyAdapter({ maxParamLength: 128 }) admits every client key.',
          type: AdminAppErrorView,
        },
      ],
    })
    @Get('clients/:key')
    client(@Param() params: ClientParams): Promise<AdminClientView> {
      return this.admin.client(params.key);
    }

    @AdminOperation({
      summary: 'List violations',
      description: 'Filter by key, rule and time range; newest first; cursor pagination.',
      responses: [{ status: 200, description: 'A page of violations.', type: AdminViolationPage }, ...errors(400)],
    })
    @Get('violations')
    listViolations(@Query() query: ListViolationsQuery): Promise<AdminViolationPage> {
      return this.admin.listViolations(query);
    }

    @AdminOperation({
      summary: 'Statistics of a window',
      description:
        'Requests, admissions, refusals (limited, blocked, banned), block rate, violations per minute, blocks and bans made, what shadow mode would have refused, top rules, top offending keys and recent violations over the last windowMs (rounded out to whole buckets). ' +
        "Summed over every instance of the fleet (each writes its figures to the storage every stats.reportIntervalMs), or one instance's with `instance`; `fleet` is false when the storage keeps no statistics (this instance's figures alone).",
      responses: [
        { status: 200, description: 'The figures.', type: AdminStatsView },
        ...errors(400),
        {
          status: 404,
          description: 'Statistics are off (`stats: false`), or no instance of that name reported within stats.retentionMs.',
          content: PROBLEM,
        },
      ],
    })
    @Get('stats')
    stats(@Query() query: StatsQuery): Promise<AdminStatsView> {
      return this.statistics.stats(query);
    }

    @AdminOperation({
      summary: 'The configuration in force',
      description:
        "The rules, routes, groups, excluded paths and escalation this instance enforces (code options, the configuration file and the environment together), the file's content and its version and hash. Secrets are masked.",
      responses: [{ status: 200, description: 'The configuration in force.', type: AdminConfigView }, ...errors()],
    })
    @Get('config')
    config(): AdminConfigView {
      return this.configuration.config();
    }

    @AdminOperation({
      summary: 'Reload the configuration file',
      description:
        'Reads the configuration file again on this instance (each instance watches its own file and reloads on SIGHUP too). A valid file is applied at once: rules, routes, groups, excludePaths, escalation and global.enabled; counters keep their state where a rule keeps its name and algorithm. An invalid one changes nothing.',
      responses: [
        { status: 200, description: 'Reloaded, or unchanged.', type: AdminReloadView },
        { status: 409, description: 'The app has no configuration file.', content: PROBLEM },
        { status: 422, description: 'The file is invalid (every problem in errors, with its line): the configuration in force stays.', content: PROBLEM },
        ...errors(),
      ],
    })
    @Post('config/reload')
    @HttpCode(HttpStatus.OK)
    reloadConfig(): Promise<AdminReloadView> {
      return this.configuration.reload();
    }

    @AdminOperation({
      summary: 'List allow- and deny-list entries',
      responses: [{ status: 200, description: 'The entries.', type: AdminAccessList }, ...errors(400)],
    })
    @Get('access-list')
    listAccessList(@Query() query: ListAccessListQuery): Promise<AdminAccessList> {
      return this.admin.listAccessList(query);
    }

    @AdminOperation({
      summary: 'Add an allow- or deny-list entry',
      description: 'Adds or replaces the entry of (kind, cidr). Allow-listed clients skip every rule and ban; deny-listed ones get 403.',
      responses: [{ status: 201, description: 'The entry as stored.', type: AdminAccessEntryView }, ...bodyErrors()],
    })
    @Post('access-list')
    @HttpCode(HttpStatus.CREATED)
    addAccessEntry(@Body() body: CreateAccessEntryBody, @AdminActor() actor: string): Promise<AdminAccessEntryView> {
      return this.admin.addAccessEntry(body, actor);
    }

    @AdminOperation({
      summary: 'Remove an allow- or deny-list entry',
      responses: [{ status: 204, description: 'Removed.' }, ...errors(400, 404)],
    })
    @Delete('access-list')
    @HttpCode(HttpStatus.NO_CONTENT)
    removeAccessEntry(@Query() query: RemoveAccessEntryQuery): Promise<void> {
      return this.admin.removeAccessEntry(query);
    }
  }
  return RateLimitAdminController;
}
