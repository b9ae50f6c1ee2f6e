/** /dns/query and /cache (mihomo's hub/route/dns.go and cache.go). */
import type { DnsRecordView } from '../../core/control-plane.js';
import { errorMessage } from '../../core/errors.js';
import { ApiError, noContent, sendJson } from '../http.js';
import type { Router } from '../router.js';

/** record type numbers for the types a query may name */
const TYPES: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35, DS: 43, RRSIG: 46, NSEC: 47, DNSKEY: 48, SVCB: 64, HTTPS: 65, CAA: 257, ANY: 255,
};

const records = (list: readonly DnsRecordView[]) => list.map((r) => ({ name: r.name, type: r.type, TTL: r.ttl, data: r.data }));

export function dnsRoutes(router: Router): void {
  router
    .add('GET', '/dns/query', {
      async handle(r) {
        const name = (r.url.searchParams.get('name') ?? '').trim();
        const type = (r.url.searchParams.get('type') || 'A').toUpperCase();
        if (TYPES[type] === undefined) throw new ApiError(400, 'invalid query type');
        if (name === '') throw new ApiError(400, 'name is required');
        const fqdn = name.endsWith('.') ? name : `${name}.`;
        const control = r.api.control;
        if (control.dnsExchange) {
          let m;
          try {
            m = await control.dnsExchange(name.replace(/\.$/, ''), type);
          } catch (err) {
            throw new ApiError(500, errorMessage(err));
          }
          const body: Record<string, unknown> = {
            Status: m.status,
            Question: [{ Name: m.question.name, Qtype: m.question.type, Qclass: m.question.class }],
            TC: m.tc,
            RD: m.rd,
            RA: m.ra,
            AD: m.ad,
            CD: m.cd,
          };
          if (m.answer.length > 0) body.Answer = records(m.answer);
          if (m.authority.length > 0) body.Authority = records(m.authority);
          if (m.additional.length > 0) body.Additional = records(m.additional);
          sendJson(r.res, 200, body);
          return;
        }
        if (type !== 'A' && type !== 'AAAA') throw new ApiError(400, `query type ${type} is not supported in clash-ts (A and AAAA are)`);
        let answers: readonly string[];
        try {
          answers = (await control.dnsQuery(name.replace(/\.$/, ''), type)).answers;
        } catch (err) {
          throw new ApiError(500, errorMessage(err));
        }
        const body: Record<string, unknown> = { Status: 0, Question: [{ Name: fqdn, Qtype: TYPES[type], Qclass: 1 }], TC: false, RD: true, RA: true, AD: false, CD: false };
        if (answers.length > 0) body.Answer = answers.map((data) => ({ name: fqdn, type: TYPES[type], TTL: 0, data }));
        sendJson(r.res, 200, body);
      },
    })
    .add('POST', '/cache/fakeip/flush', {
      async handle(r) {
        await r.api.control.flushFakeIpCache?.();
        noContent(r.res);
      },
    })
    .add('POST', '/cache/dns/flush', {
      async handle(r) {
        await r.api.control.flushDnsCache();
        noContent(r.res);
      },
    });
}
