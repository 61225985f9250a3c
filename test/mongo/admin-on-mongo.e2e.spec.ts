/**
 * The admin API over the MongoDB storage: bans by key and CIDR reach every request, survive a restart
 * of the app, and hostile query strings are refused before they reach a query.
 */
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import mongoose from 'mongoose';
import request from 'supertest';
import { RateLimitModule } from '../../lib/index.js';
import { mongoStorage } from '../../lib/storage/mongo/mongo-storage.js';
import { FakeClock } from '../support/fake-clock.js';
import { describeMongo, mongoUrl, uniqueDbName } from '../harness/mongo.js';

const KEY = 'mongo-admin-key-0123456789abcdef';

@Controller()
class PingController {
  @Get('ping') ping() {
    return 'pong';
  }
}

describeMongo('admin API on the MongoDB storage', () => {
  const dbName = uniqueDbName('admin_mongo');
  const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 7));

  async function boot(): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RateLimitModule.forRoot({
          storage: mongoStorage({ uri: mongoUrl(), connectOptions: { dbName }, sweepIntervalMs: false }),
          clock,
          trustProxy: { proxies: ['loopback'] },
          rules: [{ limit: 100, windowMs: 60_000 }],
          adminApiKey: KEY,
          admin: {},
        }),
      ],
      controllers: [PingController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  afterAll(async () => {
    const connection = await mongoose.createConnection(mongoUrl(), { dbName }).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it('bans by key and by CIDR, keeps them across a restart, lifts them, and refuses operators in queries', async () => {
    let app = await boot();
    const admin = () => ({
      get: (path: string) => request(app.getHttpServer()).get(`/rate-limit${path}`).set('Authorization', `Bearer ${KEY}`),
      post: (path: string, body: object) => request(app.getHttpServer()).post(`/rate-limit${path}`).set('Authorization', `Bearer ${KEY}`).send(body),
      delete: (path: string) => request(app.getHttpServer()).delete(`/rate-limit${path}`).set('Authorization', `Bearer ${KEY}`),
    });
    const from = (ip: string) => request(app.getHttpServer()).get('/ping').set('X-Forwarded-For', ip);
    try {
      await request(app.getHttpServer()).get('/rate-limit/bans').expect(401);
      await admin().post('/bans', { key: '203.0.113.9', kind: 'permanent', reason: 'scraping' }).expect(201);
      await admin().post('/bans', { cidr: '2001:db8:bad::/48', kind: 'temporary', durationMs: 3_600_000, reason: 'botnet' }).expect(201);
      await from('203.0.113.9').expect(403);
      await from('2001:db8:bad:1::5').expect(429);
      await from('2001:db8:600d::5').expect(200);
      await admin().get('/bans?key[$gt]=').expect(400);
      await admin().get('/violations?key[$ne]=x').expect(400);
    } finally {
      await app.close();
    }

    app = await boot(); // a restart: the bans come back from the database
    try {
      await from('203.0.113.9').expect(403);
      await from('2001:db8:bad:1::5').expect(429);
      const listed = await admin().get('/bans?active=true').expect(200);
      expect(listed.body.items.map((b: { key?: string; cidr?: string }) => b.key ?? b.cidr).sort()).toEqual(['2001:db8:bad::/48', '203.0.113.9']);
      await admin().delete('/bans?key=203.0.113.9').expect(200);
      await admin()
        .delete(`/bans?cidr=${encodeURIComponent('2001:db8:bad::/48')}`)
        .expect(200);
      await from('203.0.113.9').expect(200);
      await from('2001:db8:bad:1::5').expect(200);
    } finally {
      await app.close();
    }
  });
});
