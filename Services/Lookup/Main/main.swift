import Foundation
import LookupService
import ServiceRuntime

// One arena: the start-up load's batches then come and go in the main heap,
// whose free top malloc_trim returns to the kernel. glibc's malloc_trim leaves
// a secondary arena's top in place, and a load that ran there kept up to 18 MB
// of freed batches resident. After the load lookup allocates little.
MallocTuning.limitArenas(to: 1)
let environment = ProcessInfo.processInfo.environment
switch CommandLine.arguments.dropFirst().first {
case nil:
    await ServiceLauncher.main(LookupService.self, environment: environment)
case "rebuild":
    do {
        try await LookupRebuild.run(environment: environment)
    } catch {
        FileHandle.standardError.write(Data("lookup rebuild: \(error)\n".utf8))
        exit(1)
    }
case let other?:
    FileHandle.standardError.write(Data("usage: lookup [rebuild]   (unknown argument '\(other)')\n".utf8))
    exit(2)
}
