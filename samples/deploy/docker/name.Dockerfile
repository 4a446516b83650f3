# The name service. Build from the repository root:
#   docker build -f samples/deploy/docker/name.Dockerfile -t name .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the layer is reused until a dependency changes.
COPY Directory.Build.props Directory.Build.targets Directory.Packages.props ./
COPY samples/Name/Name.csproj samples/Name/
RUN dotnet restore samples/Name/Name.csproj
COPY samples/Shared/ samples/Shared/
COPY samples/Name/ samples/Name/
RUN dotnet publish samples/Name/Name.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# Chiseled: no shell, no package manager, non-root (user "app", UID 1654) by default; about 110 MB.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app .
# The samples listen on PORT (the AWS pattern's variable); the image's own ASPNETCORE_HTTP_PORTS=8080 is cleared.
ENV PORT=3000 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 3000
USER $APP_UID
ENTRYPOINT ["dotnet", "Name.dll"]
