/**
 * The admin API's errors are problem details served as `application/problem+json` (RFC 9457): 401,
 * validation 400s and 404 alike (403 and 503: see the access and outage suites), and its OpenAPI
 * document says so.
 */
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADAPTERS } from '../support/http-app.js';
import { BEARER, startAdminApp, type AdminTestApp } from './admin.app.js';

const PROBLEM = /^application\/problem\+json(;|$)/;

describe.each(ADAPTERS)('admin API problem bodies on %s', (adapter) => {
  let t: AdminTestApp;
  afterEach(() => t?.close());

  it('serves 401, 400, 404 as application/problem+json, parsed as JSON', async () => {
    t = await startAdminApp(adapter);
    const missing = await t.http().get('/rate-limit/bans').expect(401).expect('content-type', PROBLEM);
    expect(missing.body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
    const wrong = await t.http().get('/rate-limit/bans').set('Authorization', 'Bearer not-the-admin-key-0123456').expect(401).expect('content-type', PROBLEM);
    expect(wrong.body.status).toBe(401);
    const invalid = await t
      .http()
      .post('/rate-limit/bans')
      .set('Authorization', BEARER)
      .send({ key: '', kind: 'forever' })
      .expect(400)
      .expect('content-type', PROBLEM);
    expect(invalid.body).toMatchObject({ title: 'Bad Request', status: 400, errors: expect.any(Array) });
    const invalidQuery = await t.http().get('/rate-limit/bans?limit=0').set('Authorization', BEARER).expect(400).expect('content-type', PROBLEM);
    expect(invalidQuery.body.status).toBe(400);
    const none = await t.http().delete('/rate-limit/bans?key=203.0.113.7').set('Authorization', BEARER).expect(404).expect('content-type', PROBLEM);
    expect(none.body).toMatchObject({ title: 'Not Found', status: 404 });
    // Success answers stay application/json.
    await t
      .http()
      .get('/rate-limit/bans')
      .set('Authorization', BEARER)
      .expect(200)
      .expect('content-type', /^application\/json/);
  });
});

describe('admin API OpenAPI document: problem bodies', () => {
  it('documents every error as application/problem+json, and the body parser 400 as the app error in application/json', async () => {
    const t = await startAdminApp('express');
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      type Responses = Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      const responses = (path: string, method: string) => (document.paths[`/rate-limit${path}`] as Record<string, { responses: Responses }>)[method]!.responses;
      const problem = { schema: { $ref: '#/components/schemas/AdminProblemView' } };
      for (const [path, method, statuses] of [
        ['/bans', 'get', ['400', '401', '403', '503']],
        ['/bans', 'delete', ['400', '401', '403', '404', '503']],
        ['/clients/{key}', 'get', ['400', '401', '403', '503']],
        ['/access-list', 'delete', ['400', '401', '403', '404', '503']],
        ['/bans', 'post', ['401', '403', '503']],
      ] as const) {
        for (const status of statuses) expect(responses(path, method)[status]!.content).toEqual({ 'application/problem+json': problem });
      }
      for (const path of ['/bans', '/access-list']) {
        expect(responses(path, 'post')['400']!.content).toEqual({
          'application/problem+json': problem,
          'application/json': { schema: { $ref: '#/components/schemas/AdminAppErrorView' } },
        });
      }
    } finally {
      await t.close();
    }
  });
});
