import Foundation
import LookupService
import ServiceRuntime

MallocTuning.limitArenas()
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
