import { Controller, Get, Inject, NotFoundException, Param, Req, Res, SetMetadata, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SkipThrottle } from '../decorators/skip-throttle.decorator.js';
import { EXEMPT_METADATA } from '../rate-limit.constants.js';
import { DASHBOARD_ASSETS } from './admin.constants.js';
import { DASHBOARD_HEADERS, DASHBOARD_PAGE, type DashboardAsset, type DashboardAssets } from './dashboard-assets.js';

/**
 * The admin dashboard at `/<path>/dashboard`: the page, and its files under it by name. Made per
 * module definition, beside the admin controller; mounted only with `admin.dashboard`.
 *
 * Served without credentials: the files hold no data, and the page reads everything from the
 * admin API with the key the operator types in. Like the admin API, not rate limited and not
 * subject to bans or lists (an operator locked out by a ban must still reach the page to lift it).
 */
export function createDashboardController(path: string): Type<unknown> {
  @Controller(`${path}/dashboard`)
  @SkipThrottle()
  @SetMetadata(EXEMPT_METADATA, true)
  class RateLimitDashboardController {
    constructor(
      @Inject(DASHBOARD_ASSETS) private readonly assets: DashboardAssets,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get()
    page(@Req() request: unknown, @Res() response: unknown): void {
      const http = this.adapterHost.httpAdapter;
      // The page loads its files by relative URLs (it cannot know a global prefix): from
      // `dashboard/` (Express routes it here too) they would miss, so the browser is sent back.
      if (http.getRequestUrl(request).split('?')[0]!.endsWith('/')) return http.redirect(response, 308, '../dashboard');
      this.send(response, this.assets.get(DASHBOARD_PAGE)!);
    }

    @Get(':file')
    file(@Param('file') name: string, @Res() response: unknown): void {
      const asset = name === DASHBOARD_PAGE ? undefined : this.assets.get(name);
      if (!asset) throw new NotFoundException();
      this.send(response, asset);
    }

    private send(response: unknown, asset: DashboardAsset): void {
      const http = this.adapterHost.httpAdapter;
      for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) http.setHeader(response, name, value);
      http.setHeader(response, 'Content-Type', asset.contentType);
      http.reply(response, asset.body, 200);
    }
  }
  return RateLimitDashboardController;
}
