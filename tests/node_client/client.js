#!/usr/bin/env node
// A foreign RegimenGuard client: Node.js with @grpc/grpc-js and @grpc/proto-loader, built at
// run time from the project's .proto files only: protos/, and for its one import outside it
// (google/rpc/status.proto) the standard google-proto-files package, as any Node.js client of
// a Google-style API would; plus the standard grpc.health.v1 health.proto beside this file.
//
// Usage:
//   node client.js HOST:PORT
//
// The client calls Health/Check, CheckRegimen and CheckRegimens and prints one JSON line with
// what came back; it exits 1 on any failure, with one JSON line on stderr.
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const googleProtoFiles = require('google-proto-files');

const PROTOS_DIR = path.resolve(__dirname, '..', '..', 'protos');
// getProtoPath() is the package's google/ folder; imports name files below its parent.
const GOOGLE_PROTOS_DIR = path.dirname(googleProtoFiles.getProtoPath());
const CHECKER_PROTO = 'regimenguard/v1/regimen_checker.proto';
const HEALTH_PROTO = path.join(__dirname, 'health.proto');
const SERVICE_NAME = 'regimenguard.v1.RegimenCheckerService';
const AS_OF = '2026-11-23';
const DEADLINE_MS = 10000;

// Field names are the protobuf JSON (lowerCamelCase) names, as another language's JSON would be.
const LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

function parseArgs(argv) {
  if (argv.length !== 1) {
    throw new Error('usage: node client.js HOST:PORT');
  }
  return { target: argv[0] };
}

function loadStubs(target) {
  const checkerDefinition = protoLoader.loadSync(CHECKER_PROTO, {
    ...LOADER_OPTIONS,
    includeDirs: [PROTOS_DIR, GOOGLE_PROTOS_DIR],
  });
  const healthDefinition = protoLoader.loadSync(HEALTH_PROTO, LOADER_OPTIONS);
  const checker = grpc.loadPackageDefinition(checkerDefinition).regimenguard.v1;
  const health = grpc.loadPackageDefinition(healthDefinition).grpc.health.v1;
  const credentials = grpc.credentials.createInsecure();
  return {
    checker: new checker.RegimenCheckerService(target, credentials),
    health: new health.Health(target, credentials),
  };
}

function deadline() {
  return new Date(Date.now() + DEADLINE_MS);
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline() }, (error, response) => {
      if (error) {
        reject(new Error(`${method}: ${error.code} ${error.details || error.message}`));
      } else {
        resolve(response);
      }
    });
  });
}

// Sends every request on one CheckRegimens stream, then half-closes; resolves with the answers.
function bidi(client, requests) {
  return new Promise((resolve, reject) => {
    const call = client.CheckRegimens({ deadline: deadline() });
    const answers = [];
    call.on('data', (answer) => answers.push(answer));
    call.on('error', (error) =>
      reject(new Error(`CheckRegimens: ${error.code} ${error.details || error.message}`)),
    );
    call.on('status', (status) => {
      if (status.code === grpc.status.OK) {
        resolve(answers);
      }
    });
    for (const request of requests) {
      call.write(request);
    }
    call.end();
  });
}

// The api-contract.md example: duloxetine continuing + cyclobenzaprine PRN started.
function contractExample(requestId) {
  return {
    requestId,
    patient: { ageYears: 70, hepaticImpairment: false },
    asOf: AS_OF,
    medications: [
      { drug: 'duloxetine', doseMg: 60, dosesPerDay: 1, startedOn: '2026-09-01' },
      {
        drug: 'cyclobenzaprine',
        doseMg: 5,
        dosesPerDay: 3,
        asNeeded: true,
        action: 'ORDER_ACTION_START',
      },
    ],
  };
}

function naproxen(requestId, doseMg) {
  return {
    requestId,
    asOf: AS_OF,
    medications: [{ drug: 'naproxen', doseMg, dosesPerDay: 2 }],
  };
}

function brief(response) {
  const error = response.error
    ? {
        code: response.error.code,
        message: response.error.message,
        details: (response.error.details || []).map((detail) => detail.type_url),
      }
    : null;
  return {
    requestId: response.requestId,
    verdict: response.verdict,
    ruleIds: response.findings.map((finding) => finding.ruleId),
    severities: response.findings.map((finding) => finding.severity),
    serotonergicAgents: response.summary ? response.summary.serotonergicAgents : null,
    knowledgeBaseVersion: response.knowledgeBaseVersion,
    error,
  };
}

async function main() {
  const { target } = parseArgs(process.argv.slice(2));
  const { checker, health } = loadStubs(target);
  try {
    const healthStatus = {};
    for (const service of ['', SERVICE_NAME]) {
      const answer = await unary(health, 'Check', { service });
      healthStatus[service] = answer.status;
    }
    const single = await unary(checker, 'CheckRegimen', contractExample('node-1'));
    const streamed = await bidi(checker, [
      naproxen('node-s1', 500),
      naproxen('node-s2', -1),
      contractExample('node-s3'),
    ]);
    const result = {
      client: `node ${process.version}, @grpc/grpc-js ${require('@grpc/grpc-js/package.json').version}`,
      protoIncludes: [
        path.relative(path.resolve(__dirname, '..', '..'), PROTOS_DIR),
        `google-proto-files ${require('google-proto-files/package.json').version}`,
      ],
      health: healthStatus,
      checkRegimen: brief(single),
      checkRegimens: streamed.map(brief),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    checker.close();
    health.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${JSON.stringify({ error: String(error && error.message) })}\n`);
  process.exitCode = 1;
});
